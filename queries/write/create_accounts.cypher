// create new Account nodes (keys known to be absent) and return their internal ids — $rows: [{p: props incl. uid, d: datetime props as ISO text}]
UNWIND $rows AS row
CREATE (n:Account)
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.uid AS k, id(n) AS i
