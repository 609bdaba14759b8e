// upsert clusters — $rows: [{cluster_id, props}]
UNWIND $rows AS row
MERGE (c:Cluster {cluster_id: row.cluster_id})
SET c += row.props
