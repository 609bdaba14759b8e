// :HAS_MEDIA relationships between nodes given by internal id (idempotent) — $rows: [{s, t}]
UNWIND $rows AS row
MATCH (a) WHERE id(a) = row.s
MATCH (b) WHERE id(b) = row.t
MERGE (a)-[r:HAS_MEDIA]->(b)
