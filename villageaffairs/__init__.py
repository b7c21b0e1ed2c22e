"""Village self-government reporting: elections, reviews, appraisals, rules, supervision."""
