// upsert posts and their POSTED edge from the (already written) author — $rows: [{uid, account_uid, props}]
UNWIND $rows AS row
MERGE (p:Post {uid: row.uid})
SET p += row.props
WITH p, row
MATCH (a:Account {uid: row.account_uid})
MERGE (a)-[:POSTED]->(p)
