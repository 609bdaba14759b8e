// create new Cluster nodes (keys known to be absent) and return their internal ids — $rows: [{p: props incl. cluster_id, d: datetime props as ISO text}]
UNWIND $rows AS row
CREATE (n:Cluster)
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.cluster_id AS k, id(n) AS i
