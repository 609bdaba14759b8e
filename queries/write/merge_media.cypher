// upsert Media nodes (the retry path when a create batch meets an existing key) — $rows: [{p: props incl. key, d: datetime props as ISO text}]
UNWIND $rows AS row
MERGE (n:Media {key: row.p.key})
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.key AS k, id(n) AS i
