// unique Url.url — no params
CREATE CONSTRAINT url IF NOT EXISTS FOR (n:Url) REQUIRE n.url IS UNIQUE
