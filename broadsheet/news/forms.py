from wagtail.admin.forms import WagtailAdminPageForm


class StoryPageForm(WagtailAdminPageForm):
    """The story editing form: 'minor update' starts unticked on every edit.

    The flag is stored with each revision so that a scheduled publish knows what kind
    of update it is, but it must never carry over silently from the previous edit.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "minor_update" in self.fields:
            self.initial["minor_update"] = False
