from django.core.wsgi import get_wsgi_application

from broadsheet.settings import require_a_choice

require_a_choice()
application = get_wsgi_application()
