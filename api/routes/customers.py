"""/v1/customers: staff add the customer they are booking, read and correct them, and find them by
phone or email. Contact details are personal data, so every operation here needs staff."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from slotoptim.api.pagination import DEFAULT_LIMIT, Cursor, Limit
from slotoptim.api.queries import customers as q
from slotoptim.api.routes.deps import Ctx, Db
from slotoptim.api.routes.responses import errors
from slotoptim.api.schemas.customers import Customer, CustomerCreate, CustomerPage, CustomerPatch

CustomerPath = Annotated[
    str, PathParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$", description="customer key")
]
STAFF = {"role": "staff"}


class CustomerController(Controller):
    path = "/v1/customers"
    tags = ("customers",)

    @post(
        "/",
        operation_id="createCustomer",
        summary="Add a customer",
        status_code=HTTP_201_CREATED,
        opt=STAFF,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def create(self, db: Db, ctx: Ctx, data: JSONBody[CustomerCreate]) -> Customer:
        """409 when the key is taken; consent for a channel needs its address (422 otherwise)."""
        with db.transaction(ctx) as conn:
            return q.create(conn, data)

    @get(
        "/",
        operation_id="listCustomers",
        summary="List or find customers",
        opt=STAFF,
        sync_to_thread=True,
        responses=errors(),
    )
    def list_customers(
        self,
        db: Db,
        ctx: Ctx,
        phone: Annotated[
            str | None, QueryParameter(pattern=r"^\+[1-9][0-9]{6,14}$", description="exact E.164 phone")
        ] = None,
        email: Annotated[str | None, QueryParameter(max_length=254, description="email (any case)")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> CustomerPage:
        with db.transaction(ctx) as conn:
            return q.listing(conn, phone=phone, email=email, limit=limit, cursor=cursor)

    @get(
        "/{key:str}",
        operation_id="getCustomer",
        summary="Read a customer",
        opt=STAFF,
        sync_to_thread=True,
        responses=errors(),
    )
    def read(self, db: Db, ctx: Ctx, key: CustomerPath) -> Customer:
        with db.transaction(ctx) as conn:
            return q.get(conn, key)

    @patch(
        "/{key:str}",
        operation_id="updateCustomer",
        summary="Change a customer",
        opt=STAFF,
        sync_to_thread=True,
        responses=errors(conflict=True, unprocessable=True),
    )
    def update(self, db: Db, ctx: Ctx, key: CustomerPath, data: JSONBody[CustomerPatch]) -> Customer:
        """Only the fields sent change; null clears an optional one. Consent fields change one by one."""
        with db.transaction(ctx) as conn:
            return q.update(conn, key, data)
