// replace the properties of known nodes given by internal id — $rows: [{id, p: props, d: datetime props as ISO text}]
UNWIND $rows AS row
MATCH (n) WHERE id(n) = row.id
SET n = row.p
FOREACH (k IN keys(row.d) | SET n[k] = datetime(row.d[k]))
