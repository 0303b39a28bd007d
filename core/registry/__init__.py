"""Model versions and their promotion: `versions` (the registry tables read: versions, champion,
audit log), `registration` (a trained model saved and recorded as a candidate), `promotion` (gate
decisions acted on, promote, rollback, reject), `gate` (the promotion quality gate) and `artifacts`
(skops save/load against our allow-list of types)."""
