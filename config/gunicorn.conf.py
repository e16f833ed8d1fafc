"""gunicorn settings shared by the container and the load test (`gunicorn -c config/gunicorn.conf.py`).

gunicorn writes `Server: gunicorn` on every response itself, after the application has
answered, so no Django middleware can take it away, and it has no setting for it. The value
comes from `gunicorn.http.wsgi.SERVER`, read by each response: replacing it here, in the
config file that the master loads before forking its workers, names no software or version.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "Concord"
