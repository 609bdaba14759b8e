// create new Media nodes (keys known to be absent) and return their internal ids — $rows: [{p: props incl. key, d: datetime props as ISO text}]
UNWIND $rows AS row
CREATE (n:Media)
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.key AS k, id(n) AS i
