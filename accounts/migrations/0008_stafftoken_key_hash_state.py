"""StaffToken's hash field is named key_hash, as on every credential (accounts.credentials.Credential).

State only: the column keeps its name, token_hash (db_column), so nothing is written to the database.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_program_case_reopen_window")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="stafftoken", old_name="token_hash", new_name="key_hash"),
                migrations.AlterField(
                    model_name="stafftoken",
                    name="key_hash",
                    field=models.CharField(db_column="token_hash", max_length=64),
                ),
            ],
            database_operations=[],
        )
    ]
