// upsert media and HAS_MEDIA edges — $rows: [{post_uid, key, props}]
UNWIND $rows AS row
MATCH (p:Post {uid: row.post_uid})
MERGE (m:Media {key: row.key})
SET m += row.props
MERGE (p)-[:HAS_MEDIA]->(m)
