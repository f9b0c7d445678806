"""Store screens (``/store/``): server-rendered pages with htmx for store staff.

Access scoping is ``fulfillment.store.access``; reads are ``fulfillment.store.selectors``;
writes go through ``fulfillment.store.services`` and the fulfillment services they call.
"""
