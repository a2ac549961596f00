"""The intake service: referrals, the person-data vault, screening and consent."""
