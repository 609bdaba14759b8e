// upsert Post nodes with their POSTED, LINKS, TAGS and HAS_MEDIA relationships (the retry path when a create batch meets an existing key), columnar — $keys: [uid], $names: [property names], $cols: [one list per name], $dnames/$dcols: the same for time-zoned datetimes as ISO text, $account: [Account id or null], $links/$tags/$media: [[Url/Hashtag/Media id] or null]
UNWIND range(0, size($keys) - 1) AS i
MERGE (n:Post {uid: $keys[i]})
SET n = {uid: $keys[i]}
FOREACH (j IN range(0, size($names) - 1) | SET n[$names[j]] = $cols[j][i])
FOREACH (j IN range(0, size($dnames) - 1) | SET n[$dnames[j]] = datetime($dcols[j][i]))
WITH n, i
CALL (n, i) {
  MATCH (a)
  WHERE id(a) = $account[i]
  MERGE (a)-[:POSTED]->(n)
}
CALL (n, i) {
  UNWIND $links[i] AS t
  MATCH (b)
  WHERE id(b) = t
  MERGE (n)-[:LINKS]->(b)
}
CALL (n, i) {
  UNWIND $tags[i] AS t
  MATCH (b)
  WHERE id(b) = t
  MERGE (n)-[:TAGS]->(b)
}
CALL (n, i) {
  UNWIND $media[i] AS t
  MATCH (b)
  WHERE id(b) = t
  MERGE (n)-[:HAS_MEDIA]->(b)
}
RETURN collect($keys[i]) AS k, collect(id(n)) AS i
