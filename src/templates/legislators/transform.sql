-- Stage B of the legislators demo: the four tables the seed's Glue job produced, in the transform.sql
-- convention that the Glue runner (Spark SQL) and `sdlf run --local` (DuckDB) both execute.
--
-- Inputs are the staged tables of the batch, one view each, named after the raw file: persons, memberships,
-- organizations (and regions, which this transform does not use).

-- One row per legislator; the nested arrays (links, identifiers, other_names, contact_details) are kept as lists.
CREATE TABLE persons AS
SELECT id, name, given_name, family_name, sort_name, gender, birth_date, death_date, image,
       links, identifiers, other_names, contact_details
FROM persons;

-- One row per membership of a person in a chamber, on behalf of a party, for a legislative period.
CREATE TABLE memberships AS
SELECT person_id, organization_id, on_behalf_of_id, area_id, legislative_period_id, role, start_date, end_date
FROM memberships;

-- The two chambers and the parties, with their id and name renamed as the seed's job did.
CREATE TABLE organizations AS
SELECT id AS org_id, name AS org_name, classification, seats, identifiers, other_names, links
FROM organizations;

-- Memberships joined with the person and the organization (inner joins: rows naming a person or an
-- organization that is not in the batch are left out), one partition per chamber.
CREATE TABLE history PARTITIONED BY (org_name) AS
SELECT m.person_id,
       p.name,
       p.family_name,
       p.given_name,
       p.gender,
       p.birth_date,
       p.death_date,
       m.on_behalf_of_id AS party_id,
       m.area_id,
       m.legislative_period_id,
       m.role,
       m.start_date,
       m.end_date,
       o.org_id,
       o.org_name
FROM memberships m
JOIN persons p ON p.id = m.person_id
JOIN organizations o ON o.org_id = m.organization_id;
