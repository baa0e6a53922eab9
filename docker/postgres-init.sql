-- Run once by the postgres image when its data volume is new (docker-compose.yml): Rasa's
-- conversations in a database of their own, next to the directory's, so that a backup of
-- the directory carries no conversation and each is kept as long as it should be.
CREATE DATABASE conversations;
