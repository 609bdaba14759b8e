// create new Post nodes (keys known to be absent) with their POSTED, LINKS, TAGS and HAS_MEDIA relationships, columnar; returns their internal ids — $keys: [uid], $names: [property names], $cols: [one list per name], $dnames/$dcols: the same for time-zoned datetimes as ISO text, $account: [Account id or null], $links/$tags/$media: [[Url/Hashtag/Media id] or null]
UNWIND range(0, size($keys) - 1) AS i
CREATE (n:Post {uid: $keys[i]})
FOREACH (j IN range(0, size($names) - 1) | SET n[$names[j]] = $cols[j][i])
FOREACH (j IN range(0, size($dnames) - 1) | SET n[$dnames[j]] = datetime($dcols[j][i]))
WITH n, i
CALL (n, i) {
  MATCH (a)
  WHERE id(a) = $account[i]
  CREATE (a)-[:POSTED]->(n)
}
CALL (n, i) {
  UNWIND $links[i] AS t
  MATCH (b)
  WHERE id(b) = t
  CREATE (n)-[:LINKS]->(b)
}
CALL (n, i) {
  UNWIND $tags[i] AS t
  MATCH (b)
  WHERE id(b) = t
  CREATE (n)-[:TAGS]->(b)
}
CALL (n, i) {
  UNWIND $media[i] AS t
  MATCH (b)
  WHERE id(b) = t
  CREATE (n)-[:HAS_MEDIA]->(b)
}
RETURN collect($keys[i]) AS k, collect(id(n)) AS i
