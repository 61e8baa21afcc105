"""MongoDB targets: a task is done when a field, a set of documents, a collection or a count exists.

Each target takes a ``pymongo.MongoClient`` you create (so connection options,
authentication and pooling stay yours), a database name (``index``) and a
collection. Writes are single atomic document updates (``update_one`` with
upsert); :class:`MongoRangeTarget` writes several documents in one ordered bulk
request. ``pip install "trunkline[mongodb]"``.
"""

from __future__ import annotations

from typing import Any

from trunkline.contrib._optional import require
from trunkline.target import Target


class MongoTarget(Target):
    """A collection ``index.collection`` reached through ``mongo_client``."""

    def __init__(self, mongo_client: Any, index: str, collection: str) -> None:
        self._mongo_client = mongo_client
        self._index = index
        self._collection = collection

    def __str__(self) -> str:
        return f"{self._index}/{self._collection}"

    def get_collection(self) -> Any:
        """The targeted collection."""
        return self._mongo_client[self._index][self._collection]

    def get_index(self) -> Any:
        """The targeted database."""
        return self._mongo_client[self._index]


class MongoCellTarget(MongoTarget):
    """One field (a dotted ``path``, nested objects allowed) of one document; done once it is set."""

    def __init__(self, mongo_client: Any, index: str, collection: str, document_id: Any, path: str) -> None:
        super().__init__(mongo_client, index, collection)
        self._document_id = document_id
        self._path = path

    def exists(self) -> bool:
        return self.read() is not None

    def read(self) -> Any:
        """The field's value, or None. ``$project`` reaches into nested objects by path."""
        result = self.get_collection().aggregate(
            [{"$match": {"_id": self._document_id}}, {"$project": {"_value": "$" + self._path, "_id": False}}]
        )
        for document in result:
            return document.get("_value")
        return None

    def write(self, value: Any) -> None:
        """Set the field (creating the document if needed)."""
        self.get_collection().update_one({"_id": self._document_id}, {"$set": {self._path: value}}, upsert=True)


class MongoRangeTarget(MongoTarget):
    """A top-level ``field`` in each of ``document_ids``; done once every one has it."""

    def __init__(self, mongo_client: Any, index: str, collection: str, document_ids: list[Any], field: str) -> None:
        super().__init__(mongo_client, index, collection)
        self._document_ids = document_ids
        self._field = field

    def exists(self) -> bool:
        return not self.get_empty_ids()

    def read(self) -> dict[Any, Any]:
        """``{document_id: value}`` for the documents that have the field."""
        cursor = self.get_collection().find(
            {"_id": {"$in": self._document_ids}, self._field: {"$exists": True}}, {self._field: True}
        )
        return {document["_id"]: document[self._field] for document in cursor}

    def write(self, values: dict[Any, Any]) -> None:
        """Set the field from ``{document_id: value}`` (ids outside the range are ignored)."""
        chosen = {_id: value for _id, value in values.items() if _id in self._document_ids}
        if not chosen:
            return
        update_one = require("pymongo", "mongodb", "MongoRangeTarget.write").UpdateOne
        self.get_collection().bulk_write(
            [update_one({"_id": _id}, {"$set": {self._field: value}}, upsert=True) for _id, value in chosen.items()],
            ordered=True,
        )

    def get_empty_ids(self) -> set[Any]:
        """The ids of the documents still missing the field."""
        cursor = self.get_collection().find(
            {"_id": {"$in": self._document_ids}, self._field: {"$exists": True}}, {"_id": True}
        )
        return set(self._document_ids) - {document["_id"] for document in cursor}


class MongoCollectionTarget(MongoTarget):
    """Done once the collection exists in the database."""

    def __init__(self, mongo_client: Any, index: str, collection: str) -> None:
        super().__init__(mongo_client, index, collection)

    def exists(self) -> bool:
        return self.read()

    def read(self) -> bool:
        """Whether the collection exists (``collection_names`` on pymongo < 4)."""
        database = self.get_index()
        names = database.list_collection_names() if hasattr(database, "list_collection_names") else database.collection_names()
        return self._collection in names


class MongoCountTarget(MongoTarget):
    """Done once the collection holds exactly ``target_count`` documents."""

    def __init__(self, mongo_client: Any, index: str, collection: str, target_count: int) -> None:
        super().__init__(mongo_client, index, collection)
        self._target_count = target_count

    def exists(self) -> bool:
        return self.read() == self._target_count

    def read(self) -> int | None:
        """The number of documents, counted by aggregation (exact on sharded clusters too)."""
        for result in self.get_collection().aggregate([{"$group": {"_id": None, "count": {"$sum": 1}}}]):
            count = result.get("count")
            return None if count is None else int(count)
        return None
