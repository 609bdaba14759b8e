// create new Hashtag nodes (keys known to be absent) and return their internal ids — $rows: [{p: props incl. tag, d: datetime props as ISO text}]
UNWIND $rows AS row
CREATE (n:Hashtag)
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
RETURN row.p.tag AS k, id(n) AS i
