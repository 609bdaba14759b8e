// every account, for scoring from Neo4j — no params
MATCH (a:Account)
RETURN a {.*} AS account
ORDER BY account.uid
