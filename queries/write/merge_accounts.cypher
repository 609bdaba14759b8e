// upsert Account nodes (the retry path when a create batch meets an existing key) — $rows: [{p: props incl. uid, d: datetime props as ISO text}]
UNWIND $rows AS row
MERGE (n:Account {uid: row.p.uid})
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.uid AS k, id(n) AS i
