// :COORDINATED_WITH relationships between nodes given by internal id (idempotent) — $rows: [{s, t, p: props, d: datetime props as ISO text}]
UNWIND $rows AS row
MATCH (a) WHERE id(a) = row.s
MATCH (b) WHERE id(b) = row.t
MERGE (a)-[r:COORDINATED_WITH]->(b)
SET r = row.p
FOREACH (k IN keys(row.d) | SET r[k] = datetime(row.d[k]))
