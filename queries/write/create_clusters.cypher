// create new Cluster nodes (keys known to be absent), columnar; returns their internal ids — $keys: [cluster_id], $names: [property names], $cols: [one list per name], $dnames/$dcols: the same for time-zoned datetimes as ISO text
UNWIND range(0, size($keys) - 1) AS i
CREATE (n:Cluster {cluster_id: $keys[i]})
FOREACH (j IN range(0, size($names) - 1) | SET n[$names[j]] = $cols[j][i])
FOREACH (j IN range(0, size($dnames) - 1) | SET n[$dnames[j]] = datetime($dcols[j][i]))
RETURN collect($keys[i]) AS k, collect(id(n)) AS i
