// remove the outgoing LINKS/TAGS/HAS_MEDIA/REPOSTS of changed posts before they are rewritten — $rows: [id]
UNWIND $rows AS row
MATCH (p)-[r:LINKS|TAGS|HAS_MEDIA|REPOSTS]->()
WHERE id(p) = row
DELETE r
