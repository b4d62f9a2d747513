from tests.ui.conftest import window  # noqa: F401 - the real main window fixture
