"""The stock ledger is append-only, enforced by PostgreSQL itself.

Any UPDATE or DELETE of ``inventory_stockmovement`` rows raises, whoever issues it (ORM,
admin, psql). Corrections are new compensating movements. TRUNCATE stays possible: it is an
operator's whole-table action (and how the test suite resets the database).
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION inventory_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the stock ledger is append-only: % refused on inventory_stockmovement', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER inventory_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_ledger_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS inventory_ledger_no_update_delete ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
