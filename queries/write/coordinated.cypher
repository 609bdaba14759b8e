// write account-account coordination edges — $rows: [{src, dst, signals, weight, n_shared, evidence}]
UNWIND $rows AS row
MATCH (a:Account {uid: row.src})
MATCH (b:Account {uid: row.dst})
MERGE (a)-[r:COORDINATED_WITH]->(b)
SET r.signals = row.signals, r.weight = row.weight, r.n_shared = row.n_shared, r.evidence = row.evidence
