from django_tasks import task


@task()
def send_confirmation_task(subscriber_id: int) -> None:
    """Mail the confirmation link; the sign-up answer does not wait for the mail server."""
    from .models import Subscriber
    from .services import send_confirmation

    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is not None and subscriber.status == Subscriber.Status.PENDING:
        send_confirmation(subscriber)
