from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("papers", "0011_video_slugs_ids_series")]

    operations = [
        migrations.AlterField(
            model_name="videonote",
            name="slug",
            field=models.SlugField(max_length=200, unique=True, verbose_name="URL 标识"),
        ),
    ]
