// upsert Hashtag nodes (the retry path when a create batch meets an existing key) — $rows: [{p: props incl. tag, d: datetime props as ISO text}]
UNWIND $rows AS row
MERGE (n:Hashtag {tag: row.p.tag})
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.tag AS k, id(n) AS i
