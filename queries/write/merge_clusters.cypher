// upsert Cluster nodes (the retry path when a create batch meets an existing key) — $rows: [{p: props incl. cluster_id, d: datetime props as ISO text}]
UNWIND $rows AS row
MERGE (n:Cluster {cluster_id: row.p.cluster_id})
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.cluster_id AS k, id(n) AS i
