// create new Url nodes (keys known to be absent) and return their internal ids — $rows: [{p: props incl. url, d: datetime props as ISO text}]
UNWIND $rows AS row
CREATE (n:Url)
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.url AS k, id(n) AS i
