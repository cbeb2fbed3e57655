from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "kernel"

    def ready(self):
        # The roadmap's item detail shows the kernel's state of the item (active attempt,
        # counts, next actions); the roadmap cannot import the kernel, so the kernel adds it.
        from kernel.api.views import work_item_section
        from roadmap.api.views import ITEM_DETAIL_SECTIONS

        if work_item_section not in ITEM_DETAIL_SECTIONS:
            ITEM_DETAIL_SECTIONS.append(work_item_section)
