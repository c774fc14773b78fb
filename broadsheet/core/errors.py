"""The one base class for business-rule refusals.

A service raises a subclass with a message that is safe to show a reader or an editor;
details for the newsroom's engineers go to the log, not into the message.
"""


class BroadsheetError(Exception):
    """A refusal with a message a reader or an editor can be shown as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
