// link posts to hashtags — $rows: [{post_uid, target}]
UNWIND $rows AS row
MATCH (p:Post {uid: row.post_uid})
MERGE (h:Hashtag {tag: row.target})
MERGE (p)-[:TAGS]->(h)
