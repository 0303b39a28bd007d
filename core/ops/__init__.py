"""Running the product unattended: `scheduler` (the daily, weekly and backup schedule) and `backup`
(consistent copies of the store and its models, and their restore)."""
