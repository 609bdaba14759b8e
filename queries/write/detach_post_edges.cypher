// remove the outgoing LINKS/TAGS/HAS_MEDIA/REPOSTS of changed posts before they are rewritten — $ids: [id]
UNWIND $ids AS id
MATCH (p)-[r:LINKS|TAGS|HAS_MEDIA|REPOSTS]->()
WHERE id(p) = id
DELETE r
