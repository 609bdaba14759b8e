// upsert Url nodes (the retry path when a create batch meets an existing key) — $rows: [{p: props incl. url, d: datetime props as ISO text}]
UNWIND $rows AS row
MERGE (n:Url {url: row.p.url})
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.url AS k, id(n) AS i
