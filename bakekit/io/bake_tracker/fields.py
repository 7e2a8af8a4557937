"""bake-tracker's field names: what each section of each generation holds and what
the importer reads (every other field is listed in ``ImportReport.unknown_fields``)."""

from __future__ import annotations

SUPPORTED_MAJOR_VERSIONS = ("3", "4")

#: file fields understood, per section (others are listed in ImportReport.unknown_fields)
KNOWN: dict[str, set[str]] = {
    "_file": {"version", "exported_at", "application", "transformed_at",
              "transformation_notes", "export_date", "description", "source"},
    "suppliers": {"name", "city", "state", "website", "notes", "id", "uuid"},
    "ingredients": {"slug", "display_name", "name", "category", "parent_slug", "density",
                    "density_g_per_ml",
                    "density_volume_value", "density_volume_unit", "density_weight_value",
                    "density_weight_unit", "is_packaging", "description", "notes", "id"},
    "materials": {"slug", "display_name", "name", "category", "description", "notes",
                  "is_packaging_material"},
    "products": {"ingredient_slug", "brand", "product_name", "package_unit",
                 "package_unit_quantity", "package_size", "preferred", "notes", "upc_code",
                 "gtin", "preferred_supplier_id", "supplier", "price", "slug", "id", "uuid",
                 "ingredient_id"},
    "material_products": {"material", "material_slug", "display_name", "name", "brand",
                          "default_unit", "package_quantity", "supplier", "notes", "slug"},
    "purchases": {"ingredient_slug", "product_brand", "product_name", "package_unit",
                  "package_unit_quantity", "product_slug", "purchased_at", "purchase_date",
                  "quantity_purchased", "unit_cost", "unit_price", "total_cost", "supplier",
                  "notes", "location", "uuid", "id", "product_id", "supplier_id"},
    "inventory_items": {"ingredient_slug", "product_brand", "product_name", "package_unit",
                        "package_unit_quantity", "product_slug", "quantity", "purchase_date",
                        "location", "unit_cost", "id", "uuid", "purchase_id",
                        "product_id", "unit"},
    "unit_conversions": {"ingredient_slug", "from_unit", "to_unit", "from_quantity",
                         "to_quantity", "factor", "notes"},
    "recipes": {"name", "slug", "category", "notes", "source", "ingredients", "components",
                "finished_units"},
    "recipe_ingredients": {"ingredient_slug", "ingredient_name", "quantity", "unit", "notes"},
    "recipe_components": {"recipe_name", "recipe_slug", "component_slug", "quantity",
                          "batches", "notes"},
    "finished_units": {"slug", "display_name", "name", "recipe_name", "recipe_slug",
                       "items_per_batch", "item_unit", "unit_yield_quantity",
                       "unit_yield_unit"},
    "finished_goods": {"slug", "display_name", "name", "description", "notes"},
    "compositions": {"finished_good_slug", "finished_unit_slug",
                     "finished_good_component_slug", "material_slug", "component_quantity",
                     "sort_order", "packaging_product_id"},
    "packages": {"name", "slug", "description", "notes"},
    "package_finished_goods": {"package_name", "package_slug", "finished_good_slug",
                               "quantity"},
    "recipients": {"name", "household_name", "address", "notes"},
    "events": {"name", "slug", "event_date", "date", "notes"},
    "event_recipient_packages": {"event_name", "event_slug", "recipient_name", "package_name",
                                 "package_slug", "quantity", "status",
                                 "fulfillment_status", "notes"},
    "event_production_targets": {"event_name", "recipe_name", "recipe_slug",
                                 "finished_unit_slug", "target_batches", "quantity"},
    "event_assembly_targets": {"event_name", "finished_good_slug", "target_quantity",
                               "quantity"},
    "production_records": {"recipe_name", "recipe_slug", "finished_unit_slug", "batches",
                           "num_batches", "produced_at", "actual_cost", "total_cost",
                           "event_name", "event_slug", "notes", "actual_yield",
                           "expected_yield"},
    "production_runs": {"recipe_name", "recipe_slug", "finished_unit_slug", "batches",
                        "num_batches", "produced_at", "actual_cost", "total_cost",
                        "total_ingredient_cost", "event_name", "notes",
                        "actual_yield", "expected_yield"},
    "assembly_runs": {"finished_good_slug", "quantity", "quantity_assembled", "assembled_at",
                      "produced_at", "total_cost", "total_component_cost",
                      "event_name", "notes"},
}

#: older generations' names (3.0 to 3.3): sections renamed since, and per section the
#: field names renamed since (old -> current); read as the current ones
LEGACY_SECTIONS = {"variants": "products", "pantry_items": "inventory_items"}
LEGACY_FIELDS: dict[str, dict[str, str]] = {
    "products": {"purchase_unit": "package_unit", "purchase_quantity": "package_unit_quantity",
                 "is_preferred": "preferred"},
    "purchases": {"variant_brand": "product_brand", "quantity": "quantity_purchased",
                  "store": "supplier"},
    "inventory_items": {"variant_brand": "product_brand", "acquisition_date": "purchase_date"},
}

#: sections a catalog file holds (catalogs have their own version numbers, e.g. "1.0")
CATALOGS = {"ingredients", "products", "materials", "material_products", "recipes",
            "suppliers"}

SECTIONS = [k for k in KNOWN if k not in ("_file", "recipe_ingredients", "recipe_components")]

#: sections whose rows are named by a key that must be unique (sections sharing a key space
#: together), and the key's field
_KEYED_SECTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("suppliers",), "name"), (("ingredients", "materials"), "slug"), (("recipes",), "slug"),
    (("finished_units",), "slug"), (("finished_goods",), "slug"), (("packages",), "slug"),
    (("recipients",), "name"), (("events",), "name"))

_STATUS_MAP = {"pending": "pending", "assembled": "assembled", "ready": "assembled",
               "delivered": "delivered", "in_progress": "pending"}
