// :MEMBER_OF relationships between nodes given by internal id (idempotent), columnar — $s: [id], $t: [id], $names: [property names], $cols: [one list per name], $dnames/$dcols: the same for time-zoned datetimes as ISO text (the map of nulls drops every old property first)
UNWIND range(0, size($s) - 1) AS i
MATCH (a)
WHERE id(a) = $s[i]
MATCH (b)
WHERE id(b) = $t[i]
MERGE (a)-[r:MEMBER_OF]->(b)
SET r = {cib_hash: null}
FOREACH (j IN range(0, size($names) - 1) | SET r[$names[j]] = $cols[j][i])
FOREACH (j IN range(0, size($dnames) - 1) | SET r[$dnames[j]] = datetime($dcols[j][i]))
