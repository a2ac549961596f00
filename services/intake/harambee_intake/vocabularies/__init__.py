"""The coded lists a referral is made of: a default set, which a tenant may replace list by list."""
