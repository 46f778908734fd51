"""Small word lists for synthetic people and addresses.

Why two lists of given names: a register in which an 88-year-old is called "Jayden" looks
fake at a glance, so people born before :data:`OLDER_COHORT_BEFORE` draw from names common in
their generation. The lists mix names common across London's communities. Every name here is
ordinary and none belongs to a real patient; streets are generic and may or may not exist.
"""

from __future__ import annotations

from typing import Final

#: People born before this year draw from :data:`OLDER_GIVEN_NAMES`.
OLDER_COHORT_BEFORE: Final = 1960

OLDER_GIVEN_NAMES: Final[tuple[str, ...]] = (
    "Margaret", "Joan", "Patricia", "Dorothy", "Irene", "Jean", "Sheila", "Barbara", "Doreen",
    "Eileen", "Brenda", "Valerie", "Maureen", "Pauline", "Sylvia", "Iris", "Hazel", "Rita",
    "Gladys", "Winifred", "Beryl", "Elsie", "Mavis", "Josephine", "Bridget", "Philomena",
    "Kathleen", "Gwendolyn", "Hyacinth", "Amina", "Kamala", "Parveen", "Sadia", "Zofia",
    "Maria", "Teresa", "Fatima", "Elena", "Helga", "Ines",
    "John", "Peter", "Michael", "David", "Brian", "Kenneth", "Ronald", "Dennis", "Derek",
    "Raymond", "Roy", "Stanley", "Albert", "Arthur", "Harold", "Frederick", "Leonard",
    "Terence", "Patrick", "Desmond", "Winston", "Clement", "Errol", "Mohammed", "Abdul",
    "Rajesh", "Harbhajan", "Stanislaw", "Giuseppe", "Manuel", "Kostas", "Joe",
)  # fmt: skip

GIVEN_NAMES: Final[tuple[str, ...]] = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Sophia", "Grace", "Emily", "Lily", "Freya",
    "Chloe", "Aisha", "Maryam", "Zara", "Priya", "Anya", "Hannah", "Sarah", "Emma", "Laura",
    "Rebecca", "Charlotte", "Jessica", "Nadia", "Leila", "Chiara", "Ana", "Kemi", "Abena",
    "Oliver", "George", "Noah", "Arthur", "Muhammad", "Leo", "Harry", "Oscar", "Archie",
    "Henry", "Theo", "Jack", "Adam", "Daniel", "James", "Thomas", "Samuel", "Yusuf", "Omar",
    "Ibrahim", "Arjun", "Rohan", "Kwame", "Tunde", "Mateo", "Luca", "Tomasz", "Jamal",
    "Ryan", "Ben", "Chris", "Mark", "Paul", "Andrew", "Simon", "Matthew", "Rahul", "Nikhil",
)  # fmt: skip

FAMILY_NAMES: Final[tuple[str, ...]] = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis",
    "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook",
    "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shah", "Murphy", "Miller", "Cox",
    "Khan", "Ahmed", "Ali", "Hussain", "Begum", "Rahman", "Singh", "Kaur", "Sharma",
    "Okafor", "Mensah", "Adeyemi", "Campbell", "Francis", "Joseph", "Nowak", "Kowalski",
    "Rossi", "Silva", "Santos", "Costa", "Papadopoulos", "Ozturk", "Nguyen", "Chen", "Wong",
    "O'Brien", "O'Connor", "Byrne", "Doyle", "Fitzgerald", "Mohamed", "Hassan", "Abdi",
    "Haddad", "Karimi", "Rosen", "Fischer", "Bloggs",
)  # fmt: skip

STREET_NAMES: Final[tuple[str, ...]] = (
    "Albert", "Alexandra", "Argyle", "Ashburnham", "Beaufort", "Bedford", "Blenheim",
    "Bramley", "Cambridge", "Campden", "Carlton", "Cedar", "Chesterton", "Clarendon",
    "Coleherne", "Cornwall", "Dawes", "Delaware", "Devonshire", "Eardley", "Elgin", "Elm",
    "Elsham", "Fernhead", "Finborough", "Gloucester", "Gowan", "Hamilton", "Harwood",
    "Holland", "Ifield", "Lancaster", "Ledbury", "Lonsdale", "Lowndes", "Melrose", "Milson",
    "Norland", "Oxford", "Palace", "Pembroke", "Portland", "Queens", "Redcliffe", "Richmond",
    "Rowan", "St Mark's", "St Stephen's", "Stanhope", "Sutherland", "Tachbrook", "Tavistock",
    "Trinity", "Vicarage", "Victoria", "Warwick", "Westbourne", "Wilton", "Windsor", "York",
)  # fmt: skip

STREET_SUFFIXES: Final[tuple[str, ...]] = (
    "Road", "Street", "Gardens", "Avenue", "Place", "Square", "Terrace", "Grove", "Crescent",
    "Mews", "Close", "Court", "Villas", "Walk",
)  # fmt: skip

BUILDING_NAMES: Final[tuple[str, ...]] = (
    "House", "Court", "Mansions", "Lodge", "Tower", "Point",
)  # fmt: skip
