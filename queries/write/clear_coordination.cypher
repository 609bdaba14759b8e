// remove earlier COORDINATED_WITH edges — no params
MATCH (:Account)-[r:COORDINATED_WITH]->(:Account)
DELETE r
