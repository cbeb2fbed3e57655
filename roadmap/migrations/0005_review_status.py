from django.db import migrations

from system.sqlfiles import LoadSQL


class Migration(migrations.Migration):

    dependencies = [
        ('system', '0005_verbose_names'),
        ('roadmap', '0004_permissions'),
    ]

    operations = [
        LoadSQL("0005_review_status"),
    ]
