"""Content for the demo and benchmark data generators (manage.py seed_demo, seed_bulk).

Everything here is invented. People's surnames are made-up words that read as placeholders
(Sampleton, Testwell, ...), phone numbers are in the 555-01xx range kept for fiction, addresses
are on imaginary streets, and every e-mail address and web host is under example.org.
"""

from accounts.roles import Role
from providers.models import NeedDomain, Organization
from referrals.models import Status

PROGRAM_SLUG = "okc"
PROGRAM_NAME = "Oklahoma City Crisis Response Team"
PROGRAM_AREA = "Oklahoma City, OK"

# One password for every demo login. For demos and training only: never on a real deployment.
DEMO_PASSWORD = "crt-demo-password"  # noqa: S105

# Oklahoma City's centre; locations and encounters are scattered around it.
CITY_LAT = 35.4676
CITY_LON = -97.5164

# (username, first name, last name, role). The first of each role is the one printed as its demo login.
STAFF = [
    ("nina.navigator", "Nina", "Navigator", Role.NAVIGATOR),
    ("noah.navigator", "Noah", "Navigator", Role.NAVIGATOR),
    ("nora.navigator", "Nora", "Navigator", Role.NAVIGATOR),
    ("pete.peer", "Pete", "Peer", Role.PEER),
    ("paula.peer", "Paula", "Peer", Role.PEER),
    ("cleo.clinician", "Cleo", "Clinician", Role.CLINICIAN),
    ("pam.paramedic", "Pam", "Paramedic", Role.PARAMEDIC),
    ("paul.paramedic", "Paul", "Paramedic", Role.PARAMEDIC),
    ("sam.supervisor", "Sam", "Supervisor", Role.SUPERVISOR),
    ("ada.admin", "Ada", "Admin", Role.STAFF_ADMIN),
]

# The network admin (docs/decisions/014): a superuser of no program, who alone makes partners' API
# keys and users; sees no one's records (decision 003).
NETWORK_ADMIN = ("nell.network", "Nell", "Network")

# (username, first name, last name, organisation name)
PARTNER_USERS = [
    ("hal.housing", "Hal", "Housing", "Safe Harbor Housing Alliance"),
    ("rita.recovery", "Rita", "Recovery", "Riverside Recovery Center"),
    ("mona.mentalhealth", "Mona", "Mentalhealth", "Red Dirt Behavioral Health"),
]

WEEKDAYS = "Mon-Fri 8:00-17:00"
ALWAYS = "Open 24 hours, 7 days"


def _org(name, slug, description, channel, *, part2=False, services, locations):
    org = {
        "name": name,
        "description": description,
        "website": f"https://{slug}.example.org",
        "email": f"intake@{slug}.example.org",
        "channel": channel,
        "may_receive_part2": part2,
        "services": services,
        "locations": locations,
    }
    if channel == Organization.Channel.EMAIL:
        org["notification_email"] = f"referrals@{slug}.example.org"
    if channel == Organization.Channel.WEBHOOK:
        org["webhook_url"] = f"https://hooks.{slug}.example.org/crt/referrals"
    return org


def _service(name, domain, description, *, eligibility="", ages=(None, None), languages=("en",), **extra):
    return {
        "name": name,
        "need_domain": domain,
        "description": description,
        "eligibility": eligibility,
        "min_age": ages[0],
        "max_age": ages[1],
        "languages": list(languages),
        "status": extra.get("status", "active"),
        "fees": extra.get("fees", "Free"),
        "application_process": extra.get("apply", "Referral from the Crisis Response Team or walk in."),
        "assured_days_ago": extra.get("assured_days_ago", 20),
        "capacity": extra.get("capacity"),  # (unit, available, maximum, updated days ago)
        "hours": extra.get("hours", WEEKDAYS),
    }


def _location(name, address, postal_code, dlat, dlon, *, confidential=False):
    return {
        "name": name,
        "address_1": address,
        "postal_code": postal_code,
        "latitude": round(CITY_LAT + dlat, 6),
        "longitude": round(CITY_LON + dlon, 6),
        "is_confidential": confidential,
    }


H, HC, R, MH, PS, F, B, L = (
    NeedDomain.HOUSING,
    NeedDomain.HEALTHCARE,
    NeedDomain.RECOVERY,
    NeedDomain.MENTAL_HEALTH,
    NeedDomain.PEER_SUPPORT,
    NeedDomain.FOOD,
    NeedDomain.BENEFITS,
    NeedDomain.LEGAL,
)
PULL, EMAIL, WEBHOOK = Organization.Channel.PULL, Organization.Channel.EMAIL, Organization.Channel.WEBHOOK

ORGANIZATIONS = [
    _org(
        "Safe Harbor Housing Alliance",
        "safeharbor-housing",
        "Emergency shelter and rapid re-housing for single adults and families.",
        EMAIL,
        services=[
            _service(
                "Emergency shelter beds",
                H,
                "Overnight shelter with meals, showers and a case manager on site.",
                eligibility="Adults 18+ without a safe place to stay tonight.",
                ages=(18, None),
                languages=("en", "es"),
                capacity=("beds", 4, 60, 0),
                hours=ALWAYS,
            ),
            _service(
                "Rapid re-housing",
                H,
                "Short-term rent help and a housing locator to move into an apartment within weeks.",
                eligibility="Literally homeless households; income below 30% of area median.",
                ages=(18, None),
                capacity=("intake slots", 1, 8, 21),
            ),
        ],
        locations=[_location("Safe Harbor Downtown Shelter", "401 W Example Ave", "73102", 0.004, -0.006)],
    ),
    _org(
        "Northside Family Shelter",
        "northside-family",
        "Family shelter where parents and children stay together.",
        PULL,
        services=[
            _service(
                "Family shelter rooms",
                H,
                "Private rooms for families with children, with childcare during job search.",
                eligibility="Families with at least one child under 18.",
                capacity=("rooms", 0, 14, 28),
                hours=ALWAYS,
            ),
        ],
        locations=[_location("Northside Family Shelter", "2900 N Placeholder Blvd", "73118", 0.052, 0.004)],
    ),
    _org(
        "Haven House",
        "havenhouse",
        "Confidential shelter and advocacy for survivors of domestic violence.",
        EMAIL,
        services=[
            _service(
                "Domestic-violence emergency shelter",
                H,
                "Safe confidential shelter, safety planning and legal advocacy for survivors and their children.",
                eligibility="Anyone fleeing domestic or intimate-partner violence.",
                languages=("en", "es", "vi"),
                capacity=("beds", 2, 24, 1),
                hours=ALWAYS,
                apply="Call the 24-hour line; the address is given only once a bed is confirmed.",
            ),
            _service(
                "Protective-order advocacy",
                L,
                "Help preparing and filing for a protective order, and someone to go to court with you.",
                languages=("en", "es"),
            ),
        ],
        locations=[
            _location("Haven House shelter (confidential)", "Address withheld", "", 0.031, -0.047, confidential=True)
        ],
    ),
    _org(
        "Crossroads Community Health Center",
        "crossroads-health",
        "Federally qualified health centre: primary care, dental and pharmacy on a sliding scale.",
        WEBHOOK,
        services=[
            _service(
                "Primary care for uninsured adults",
                HC,
                "Same-week appointments, chronic-disease care and low-cost prescriptions.",
                fees="Sliding scale from $20",
                languages=("en", "es", "vi"),
                capacity=("appointments this week", 6, 30, 2),
            ),
            _service(
                "Medication-assisted treatment",
                R,
                "Buprenorphine starts and follow-up with a primary-care provider.",
                eligibility="Adults with opioid use disorder.",
                ages=(18, None),
            ),
        ],
        locations=[_location("Crossroads Clinic - Capitol Hill", "1200 SW Sample St", "73109", -0.038, 0.002)],
    ),
    _org(
        "Eastside Free Clinic",
        "eastside-clinic",
        "Volunteer-run evening clinic for people without insurance.",
        PULL,
        services=[
            _service(
                "Evening walk-in clinic",
                HC,
                "Walk-in medical visits Tuesday and Thursday evenings.",
                hours="Tue, Thu 17:30-20:30",
                assured_days_ago=190,
            ),
        ],
        locations=[_location("Eastside Free Clinic", "1515 NE Demo Dr", "73111", 0.021, 0.041)],
    ),
    _org(
        "Riverside Recovery Center",
        "riverside-recovery",
        "Licensed substance-use treatment: detox, residential and outpatient programmes.",
        WEBHOOK,
        part2=True,
        services=[
            _service(
                "Medical detox",
                R,
                "Medically monitored withdrawal management, 3 to 7 days.",
                eligibility="Adults 18+; alcohol, opioids or benzodiazepines.",
                ages=(18, None),
                capacity=("beds", 1, 16, 0),
                hours=ALWAYS,
            ),
            _service(
                "Intensive outpatient programme",
                R,
                "Group and individual counselling three evenings a week.",
                ages=(18, None),
                languages=("en", "es"),
                capacity=("intake slots", 3, 10, 35),
            ),
        ],
        locations=[_location("Riverside Recovery campus", "800 S Riverbank Example Rd", "73129", -0.061, 0.019)],
    ),
    _org(
        "New Dawn Treatment Services",
        "newdawn-treatment",
        "Outpatient substance-use treatment and counselling for adults and young people.",
        EMAIL,
        part2=True,
        services=[
            _service(
                "Outpatient counselling (substance use)",
                R,
                "Weekly counselling with a licensed alcohol and drug counsellor (LADC).",
                ages=(16, None),
                capacity=("intake slots", 5, 12, 3),
            ),
        ],
        locations=[_location("New Dawn - Midtown office", "1020 N Fictional Ave", "73103", 0.012, -0.004)],
    ),
    _org(
        "Prairie Sober Living",
        "prairie-soberliving",
        "Peer-run recovery residences for people in early recovery.",
        PULL,
        services=[
            _service(
                "Recovery residence",
                R,
                "Shared homes with house meetings and a peer house manager; rent is income-based.",
                eligibility="Adults 18+ with 7 or more days abstinent.",
                ages=(18, None),
                fees="Income-based, first two weeks covered",
                capacity=("beds", 0, 22, 42),
                status="temporarily closed",
            ),
        ],
        locations=[_location("Prairie House on 16th", "1600 NW Imaginary Ln", "73106", 0.029, -0.028)],
    ),
    _org(
        "Red Dirt Behavioral Health",
        "reddirt-bh",
        "Community mental-health centre: counselling, psychiatry and case management.",
        EMAIL,
        services=[
            _service(
                "Urgent outpatient mental-health intake",
                MH,
                "Assessment within 72 hours of referral, then counselling and psychiatry.",
                languages=("en", "es"),
                capacity=("intake slots", 2, 15, 1),
            ),
            _service(
                "Medication management",
                MH,
                "Psychiatric prescriber visits and bridge prescriptions after a crisis.",
                ages=(18, None),
                assured_days_ago=120,
            ),
        ],
        locations=[_location("Red Dirt BH - Main clinic", "3401 S Example Blvd", "73119", -0.057, -0.031)],
    ),
    _org(
        "Sooner Youth & Family Counseling",
        "sooner-youth",
        "Counselling for young people and their families.",
        PULL,
        services=[
            _service(
                "Youth crisis counselling",
                MH,
                "Counselling for 12-24 year olds within a week, with family sessions.",
                eligibility="Young people aged 12 to 24 and their families.",
                ages=(12, 24),
                languages=("en", "es"),
            ),
        ],
        locations=[_location("Sooner Youth - Uptown", "2300 N Sample Walk", "73103", 0.041, -0.013)],
    ),
    _org(
        "Bridges Peer Recovery Network",
        "bridges-peer",
        "Certified peer recovery support specialists with lived experience.",
        PULL,
        services=[
            _service(
                "One-to-one peer recovery support",
                PS,
                "A peer specialist who meets weekly, goes with you to appointments and helps you stay on track.",
                languages=("en", "es"),
                capacity=("caseload openings", 4, 40, 9),
            ),
        ],
        locations=[_location("Bridges drop-in centre", "615 N Demo Pl", "73106", 0.015, -0.019)],
    ),
    _org(
        "Heartland Warmline",
        "heartland-warmline",
        "Peer-run warmline: someone to talk to before things become a crisis.",
        EMAIL,
        services=[
            _service(
                "Peer warmline call-backs",
                PS,
                "Scheduled call-backs from a trained peer, evenings and weekends.",
                hours="Every day 16:00-midnight",
            ),
        ],
        locations=[_location("Heartland Warmline office", "200 E Placeholder St", "73104", 0.002, 0.011)],
    ),
    _org(
        "Capitol Hill Community Pantry",
        "capitolhill-pantry",
        "Food pantry with fresh produce; no paperwork needed.",
        PULL,
        services=[
            _service(
                "Emergency food boxes",
                F,
                "Three days of groceries, once a week; home delivery for people without transport.",
                languages=("en", "es"),
                hours="Mon, Wed, Sat 9:00-13:00",
            ),
        ],
        locations=[_location("Capitol Hill pantry", "2501 S Example Ave", "73109", -0.044, -0.008)],
    ),
    _org(
        "Heartland Home Meals",
        "heartland-meals",
        "Home-delivered meals for older and homebound neighbours.",
        EMAIL,
        services=[
            _service(
                "Home-delivered meals",
                F,
                "A hot lunch delivered on weekdays with a friendly check-in.",
                eligibility="Homebound adults 60+ or with a disability.",
                ages=(60, None),
                capacity=("new routes this month", 7, 25, 15),
            ),
        ],
        locations=[_location("Heartland Home Meals kitchen", "4100 NW Sample Pkwy", "73112", 0.036, -0.061)],
    ),
    _org(
        "Benefits Navigation Project",
        "benefits-nav",
        "Enrolment help for SoonerCare, SNAP, SSI/SSDI and ID documents.",
        WEBHOOK,
        services=[
            _service(
                "Benefits enrolment help",
                B,
                "One appointment to apply for SoonerCare, SNAP and SSI, with help replacing lost ID.",
                languages=("en", "es", "vi", "ar"),
                capacity=("appointments this week", 3, 18, 4),
            ),
            _service(
                "Bus passes for appointments",
                NeedDomain.TRANSPORTATION,
                "Monthly bus passes for people attending treatment or medical appointments.",
                status="inactive",
                assured_days_ago=300,
            ),
        ],
        locations=[_location("Benefits Navigation - Library branch", "300 Park Example Ave", "73102", 0.006, 0.001)],
    ),
]

# Made-up surnames that read as placeholders, so no demo record can be mistaken for a real person.
SURNAMES = [
    "Sampleton",
    "Testwell",
    "Demoford",
    "Mockridge",
    "Placeholt",
    "Fictley",
    "Trialby",
    "Exampleby",
    "Dummont",
    "Draftwood",
    "Protoson",
    "Mockingham",
    "Specimond",
    "Stubworth",
    "Fakenham-Demo",
    "Pretendo",
    "Imaginary",
    "Notreal",
    "Synthwell",
    "Fabrico",
    "Madeupson",
    "Pseudonym",
    "Lorempson",
    "Ipsumdale",
    "Testerfield",
]

FIRST_NAMES = [
    "Avery",
    "Jordan",
    "Marisol",
    "Darnell",
    "Linh",
    "Tyrone",
    "Keisha",
    "Wyatt",
    "Rosa",
    "Cody",
    "Aaliyah",
    "Brandon",
    "Nhung",
    "Dakota",
    "Esperanza",
    "Travis",
    "Imani",
    "Cheyenne",
    "Luis",
    "Brittany",
    "Omar",
    "Kayla",
    "Tuan",
    "Shawna",
    "Miguel",
    "Destiny",
    "Hunter",
    "Yolanda",
    "Samir",
    "Crystal",
    "Dwayne",
    "Guadalupe",
    "Ashley",
    "Quang",
    "Tamika",
    "Colton",
    "Leticia",
    "Raymond",
    "Winona",
    "Jasmine",
]

PRONOUNS = ["", "", "she/her", "he/him", "they/them", "she/they"]
GENDERS = ["woman", "man", "woman", "man", "non-binary", "transgender woman", "transgender man", ""]

# Neighbourhoods of the area served (used for the equity breakdown by area).
AREAS = [
    "Downtown",
    "Midtown",
    "Capitol Hill",
    "Northeast",
    "Southside",
    "Western Avenue",
    "Uptown",
    "Stockyards",
    "Paseo",
    "Del Aire",
]

STREETS = ["Example Ave", "Sample St", "Placeholder Blvd", "Demo Dr", "Fictional Ave", "Imaginary Ln", "Mock Rd"]

# ISO 639-1, weighted roughly like the city's callers.
LANGUAGES = ["en"] * 14 + ["es"] * 4 + ["vi", "ar"]

WHERE_STAYING = [
    "Under the I-40 bridge near the river trail",
    "Car behind the laundromat on Example Ave",
    "Camp by the railroad tracks, east of Demo Dr",
    "Bus-station benches downtown, most nights",
    "Shelter on Placeholder Blvd when there is a bed",
]

SAFETY_NOTES = [
    "Large dog on the property; ask family to secure it before going in.",
    "Prefers female responders because of past trauma; approach slowly and explain each step.",
    "Keeps a kitchen knife by the front door; ask before approaching the door.",
    "Hard of hearing: face the person and speak clearly; does not lip-read well in the dark.",
    "Becomes frightened by uniforms and lights; stage police out of sight if they co-respond.",
    "History of seizures; check blood glucose early.",
    "Calm when spoken to in Spanish; bring an interpreter or use the language line.",
    "Apartment on the third floor, elevator often broken; bring the stair chair.",
]

SAFE_TIMES = ["", "", "Weekdays after 17:00", "Mornings before 10:00", "Any time except Sunday", "Text first"]

CALL_TYPES = [
    "Mental health - suicidal statements",
    "Mental health - disturbance",
    "Welfare check",
    "Overdose - conscious",
    "Person in distress in public",
    "Family crisis",
]

CALL_REASONS = [
    "Family member reports the person said they do not want to be alive and has not slept for days.",
    "Passer-by saw a person walking in traffic lanes, talking to themselves and appearing disoriented.",
    "Neighbour worried about shouting and crying from an apartment for several hours.",
    "Person called 911 saying they took extra pills and now feel scared.",
    "Store staff report a person who has been sitting in the restroom for two hours and will not answer.",
    "Mother reports her adult son is threatening to hurt himself after losing his job.",
    "Shelter staff request help with a resident who is agitated and not making sense.",
    "Caller transferred from 988: person alone at home with a plan, agreed to a visit.",
]

NARRATIVES = [
    "Team arrived, introduced themselves and sat with the person outside. Talked through what happened "
    "today; person agreed to a safety plan with their sister and a call tomorrow.",
    "Person calmer after about 40 minutes of conversation. Vitals within normal limits. Discussed options; "
    "chose to go to the crisis centre voluntarily and was driven by the team.",
    "Paramedic care for a minor cut; clinician completed the suicide screen. Family present and supportive. "
    "Linked to outpatient intake.",
    "Person declined assessment and asked the team to leave; no imminent risk observed. Left a card with "
    "the 988 number and the navigator's phone.",
    "Located after a 20-minute search of the area; person was cold and hungry. Provided food and blanket, "
    "arranged a shelter bed for tonight.",
]

DESTINATIONS = {
    "voluntary_crisis_centre": "Urgent recovery centre (crisis unit), 24-hour walk-in",
    "emergency_department": "Emergency department, central hospital",
    "involuntary_hold": "Crisis centre under an emergency detention order",
    "arrest": "County detention centre",
}

CLINICAL_IMPRESSIONS = [
    "Depressed mood after a recent loss; engaged well; protective factors: children, faith.",
    "Acute anxiety with panic symptoms; no psychosis observed; open to counselling.",
    "Disorganised speech and poor sleep for a week; possible medication gap.",
    "Intoxicated on arrival, clearer after an hour; ambivalent about treatment.",
    "Calm and future-oriented by the end of the visit; relies on a close friend for support.",
]

WARNING_SIGNS = [
    "Not sleeping for two nights",
    "Staying in my room and not answering texts",
    "Drinking alone",
    "Thinking that everyone would be better off without me",
    "Skipping my medication",
    "Getting into arguments at home",
    "Feeling trapped about money",
]
COPING = [
    "Walk around the block with headphones on",
    "Take a cold shower",
    "Play a game on my phone for 20 minutes",
    "Write down what I'm feeling",
    "Pray or sit quietly",
    "Cook something simple",
    "Draw",
]
DISTRACTIONS = [
    {"name": "Public library, Downtown branch", "place": "300 Park Example Ave"},
    {"name": "Cousin's barbershop", "place": "Example Ave"},
    {"name": "Bridges drop-in centre", "place": "615 N Demo Pl"},
    {"name": "The park by the river trail", "place": "River trail"},
]
HELPERS = [
    {"name": "Sister (demo contact)", "phone": "405-555-0142"},
    {"name": "Best friend (demo contact)", "phone": "405-555-0143"},
    {"name": "Grandmother (demo contact)", "phone": "405-555-0144"},
    {"name": "Sponsor (demo contact)", "phone": "405-555-0145"},
]
PROFESSIONALS = [
    {"name": "988 Suicide & Crisis Lifeline", "phone": "988"},
    {"name": "Emergency", "phone": "911"},
    {"name": "Red Dirt Behavioral Health (demo)", "phone": "405-555-0150"},
    {"name": "My CRT navigator (demo)", "phone": "405-555-0151"},
]
ENVIRONMENT_STEPS = [
    {
        "method": "medication",
        "step": "Sister keeps the extra pills; weekly pill box",
        "who": "sister",
        "status": "done",
    },
    {"method": "firearm", "step": "Friend stores the rifle until review", "who": "friend", "status": "agreed"},
    {"method": "alcohol", "step": "No alcohol kept at home", "who": "self", "status": "in progress"},
    {"method": "sharp objects", "step": "Razor blades locked in the car", "who": "partner", "status": "done"},
]
MOST_IMPORTANT = [
    "My kids and seeing them graduate.",
    "Getting my own place again.",
    "My dog, Biscuit.",
    "Staying sober for my grandmother.",
    "Finishing my GED.",
    "My church family.",
]
COPY_KEPT_AT = ["Phone photo and fridge door", "Wallet", "With sister", "Shelter locker", ""]

RELATIONSHIPS = ["mother", "brother", "sister", "partner", "friend", "grandmother", "shelter case worker", "son"]

CONTACT_NOTES = [
    "Checked in; sleeping better and using the safety plan.",
    "Talked through the intake appointment and how to get there.",
    "Person is worried about rent; gave benefits appointment details.",
    "Left a voicemail with the callback number.",
    "Texted reminder about tomorrow's appointment.",
    "Met at the shelter; helped fill in the housing application.",
    "Feeling low today but safe; agreed to call 988 if things get worse.",
]
NEXT_STEPS = [
    "Call again in three days",
    "Go with them to the intake",
    "Confirm the appointment with the partner",
    "Review the safety plan next visit",
    "",
]

REFERRAL_REASONS = {
    NeedDomain.HOUSING: "Needs a safe place to stay; currently without housing after a crisis.",
    NeedDomain.HEALTHCARE: "Needs a primary-care appointment and help with prescriptions.",
    NeedDomain.RECOVERY: "Asked for help to stop using and wants a treatment start this week.",
    NeedDomain.MENTAL_HEALTH: "Needs an outpatient mental-health intake soon after a crisis visit.",
    NeedDomain.PEER_SUPPORT: "Would like a peer who has been through recovery to meet with them.",
    NeedDomain.FOOD: "Has no food at home until the next benefits date.",
    NeedDomain.BENEFITS: "Lost ID and health coverage; needs help re-applying.",
    NeedDomain.LEGAL: "Wants help with a protective order.",
    NeedDomain.TRANSPORTATION: "Needs transport to treatment appointments.",
    NeedDomain.OTHER: "Needs help with a practical problem.",
}

STATUS_REASONS = {
    "rejected": ["Outside our service area", "No beds; suggested another shelter", "Does not meet age eligibility"],
    "cancelled": [
        "Person declined after talking through options",
        "Person found help elsewhere",
        "Person moved out of the area",
    ],
    "on-hold": ["Waitlisted until the next intake day", "Waiting for ID documents", "Person in hospital this week"],
    "failed": [
        "Unable to reach the person after three attempts",
        "No-show at two appointments",
        "Person left the programme",
    ],
    "entered-in-error": ["Sent for the wrong person", "Duplicate of another referral"],
}

OUTCOME_NOTES = {
    "completed": ["Enrolled and attended the first two sessions.", "Moved into a shelter bed; engaged with staff."],
    "failed": ["Did not attend; we closed the referral.", "Could not reach by phone or at the address given."],
}

DELIVERY_ERRORS = [
    "connection refused",
    "name or service not known",
    "read timed out after 10 s",
    "TLS handshake failed",
]

# For the bulk generator.
BULK_SAFE_CHANNELS = ['["phone"]', '["text"]', '["phone", "text"]', "[]", '["in_person"]']
BULK_INTERVENTIONS = ['["de_escalation"]', '["de_escalation", "safety_planning"]', '["medical_care"]', "[]"]

# How a referral reached each final status: the history written as its ReferralEvents.
REFERRAL_HISTORY = {
    Status.DRAFT: [Status.DRAFT],
    Status.REQUESTED: [Status.DRAFT, Status.REQUESTED],
    Status.ACCEPTED: [Status.DRAFT, Status.REQUESTED, Status.ACCEPTED],
    Status.REJECTED: [Status.DRAFT, Status.REQUESTED, Status.REJECTED],
    Status.CANCELLED: [Status.DRAFT, Status.REQUESTED, Status.CANCELLED],
    Status.IN_PROGRESS: [Status.DRAFT, Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS],
    Status.ON_HOLD: [Status.DRAFT, Status.REQUESTED, Status.ACCEPTED, Status.ON_HOLD],
    Status.COMPLETED: [Status.DRAFT, Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.COMPLETED],
    Status.FAILED: [Status.DRAFT, Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.FAILED],
    Status.ENTERED_IN_ERROR: [Status.DRAFT, Status.REQUESTED, Status.ENTERED_IN_ERROR],
}
