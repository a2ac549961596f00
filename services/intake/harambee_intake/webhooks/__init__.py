"""Partner webhooks: subscriptions, the signed delivery queue, and the dispatcher that sends it."""
