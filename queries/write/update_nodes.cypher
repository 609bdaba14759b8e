// replace the properties of known nodes given by internal id, columnar — $ids: [id], $names: [property names], $cols: [one list per name], $dnames/$dcols: the same for time-zoned datetimes as ISO text (the map of nulls drops every old property first)
UNWIND range(0, size($ids) - 1) AS i
MATCH (n)
WHERE id(n) = $ids[i]
SET n = {cib_hash: null}
FOREACH (j IN range(0, size($names) - 1) | SET n[$names[j]] = $cols[j][i])
FOREACH (j IN range(0, size($dnames) - 1) | SET n[$dnames[j]] = datetime($dcols[j][i]))
