"""The words of the demo service desk: who works there, what it runs, what breaks and what is said.

Pure data, no database: `directory.py` creates the people and services from it, `stories/`
writes tickets with it. Template slots in braces are filled from `SLOTS`.
"""

from __future__ import annotations

# --- organisations and people -----------------------------------------------------------------

PROVIDER = ("Servio IT Services", ["example.com"])
# (name, mail domain, requesters see each other's tickets, share of requesters and tickets)
CUSTOMERS = [
    ("Acme Corporation", "acme.example", True, 0.45),
    ("Globex Industries", "globex.example", False, 0.35),
    ("Initech", "initech.example", False, 0.20),
]

# Where the demo's organisations and some of its people read times (decision 37): the provider
# in UTC, each customer in its own zone; a few agents chose their own zone, the rest follow the
# provider's. Names not listed follow their organisation.
ORGANISATION_ZONES = {
    PROVIDER[0]: "UTC",
    "Acme Corporation": "Europe/Berlin",
    "Globex Industries": "America/New_York",
    "Initech": "Asia/Kolkata",
}
PERSON_ZONES = {
    "Lee Lead": "Europe/Berlin",
    "Priya Natarajan": "Asia/Kolkata",
    "Tom Becker": "Europe/Berlin",
    "Chen Li": "Asia/Kolkata",
    "Kenji Sato": "America/New_York",
}

# (full name, email or None for first.last@example.com, role)
# Teams name their lead first; the demo logins keep the addresses the README names.
TEAMS = [
    {
        "name": "Service Desk",
        "email": "servicedesk@example.com",
        "serves": ["provider", "Acme Corporation", "Globex Industries", "Initech"],
        "people": [
            ("Lee Lead", "lead@example.com", "team_lead"),
            ("Sam Agent", "agent@example.com", "agent"),
            ("Priya Natarajan", None, "agent"),
            ("Tom Becker", None, "agent"),
            ("Aisha Okafor", None, "agent"),
        ],
    },
    {
        "name": "Workplace & Devices",
        "email": "workplace@example.com",
        "serves": ["provider", "Acme Corporation", "Initech"],
        "people": [
            ("Marta Kowalski", None, "team_lead"),
            ("Jonas Weber", None, "agent"),
            ("Chen Li", None, "agent"),
            ("Lucas Moreau", None, "agent"),
            ("Noah Fischer", None, "agent"),
        ],
    },
    {
        "name": "Network & Security",
        "email": "netsec@example.com",
        "serves": ["provider", "Acme Corporation", "Globex Industries", "Initech"],
        "people": [
            ("Omar Haddad", None, "team_lead"),
            ("Elena Rossi", None, "agent"),
            ("Kenji Sato", None, "agent"),
            ("Fatima Zahra", None, "agent"),
        ],
    },
    {
        "name": "Business Applications",
        "email": "apps@example.com",
        "serves": ["Acme Corporation", "Globex Industries"],
        "people": [
            ("Hannah Schmidt", None, "team_lead"),
            ("Diego Alvarez", None, "agent"),
            ("Olivia Brown", None, "agent"),
        ],
    },
    {
        "name": "Infrastructure & Cloud",
        "email": "infra@example.com",
        "serves": ["provider", "Globex Industries", "Initech"],
        "people": [
            ("Viktor Novak", None, "team_lead"),
            ("Grace Kim", None, "change_manager"),
            ("Ravi Patel", None, "agent"),
        ],
    },
]

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Paul",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Joshua",
    "Donna",
    "Kevin",
    "Michelle",
    "Brian",
    "Carol",
    "George",
    "Amanda",
    "Timothy",
    "Melissa",
    "Ronald",
    "Deborah",
    "Jason",
    "Stephanie",
    "Ryan",
    "Rebecca",
    "Jacob",
    "Laura",
    "Gary",
    "Helen",
    "Nicholas",
    "Sharon",
    "Eric",
    "Cynthia",
    "Jonathan",
    "Kathleen",
    "Stefan",
    "Ingrid",
    "Pierre",
    "Amelie",
    "Mateo",
    "Lucia",
    "Yusuf",
    "Leila",
    "Arjun",
    "Ananya",
    "Hiroshi",
    "Yuki",
    "Sven",
    "Astrid",
    "Tariq",
    "Nadia",
    "Kofi",
    "Amara",
    "Wei",
    "Mei",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Muller",
    "Schneider",
    "Dubois",
    "Lambert",
    "Rossi",
    "Bianchi",
    "Kowalczyk",
    "Nowak",
    "Jensen",
    "Larsen",
    "Tanaka",
    "Yamamoto",
    "Kumar",
    "Sharma",
    "Mensah",
    "Osei",
    "Haddad",
    "Farouk",
    "Lindqvist",
    "Berg",
    "Costa",
    "Silva",
]
DEPARTMENTS = (
    "Finance",
    "Sales",
    "Marketing",
    "HR",
    "Logistics",
    "Procurement",
    "Legal",
    "Customer Support",
    "Engineering",
    "Operations",
)

# --- services and categories ------------------------------------------------------------------

# (service name, owner team, content family, category root, weight of tickets)
SERVICES = [
    ("Laptops & Desktops", "Workplace & Devices", "device", "Hardware", 9),
    ("Mobile Devices", "Workplace & Devices", "mobile", "Hardware", 4),
    ("Printing & Scanning", "Workplace & Devices", "print", "Hardware", 5),
    ("Microsoft 365 Apps", "Workplace & Devices", "office", "Software", 6),
    ("Video Conferencing", "Workplace & Devices", "video", "Email & Collaboration", 3),
    ("Software Installation", "Workplace & Devices", "software", "Software", 4),
    ("Meeting Room AV", "Workplace & Devices", "av", "Hardware", 2),
    ("Corporate Network", "Network & Security", "lan", "Network", 3),
    ("Wi-Fi", "Network & Security", "wifi", "Network", 4),
    ("VPN Remote Access", "Network & Security", "vpn", "Network", 5),
    ("Internet Access", "Network & Security", "internet", "Network", 2),
    ("Firewall & Web Filtering", "Network & Security", "firewall", "Security", 2),
    ("Email Security", "Network & Security", "mailsec", "Security", 3),
    ("Identity & Single Sign-On", "Network & Security", "identity", "Access", 5),
    ("ERP (SAP S/4HANA)", "Business Applications", "erp", "Business application", 4),
    ("CRM (Salesforce)", "Business Applications", "crm", "Business application", 3),
    ("HR Portal", "Business Applications", "hr", "Business application", 2),
    ("Payroll", "Business Applications", "payroll", "Business application", 1),
    ("Expense Management", "Business Applications", "expense", "Business application", 2),
    ("Intranet", "Business Applications", "intranet", "Business application", 1),
    ("Document Management", "Business Applications", "docs", "Email & Collaboration", 2),
    ("Business Intelligence", "Business Applications", "bi", "Business application", 2),
    ("Email (Exchange Online)", "Infrastructure & Cloud", "email", "Email & Collaboration", 7),
    ("File Shares", "Infrastructure & Cloud", "files", "Infrastructure", 3),
    ("Backup & Restore", "Infrastructure & Cloud", "backup", "Infrastructure", 2),
    ("Virtual Servers", "Infrastructure & Cloud", "servers", "Infrastructure", 2),
    ("Databases", "Infrastructure & Cloud", "db", "Infrastructure", 1),
    ("Cloud Hosting (Azure)", "Infrastructure & Cloud", "cloud", "Infrastructure", 1),
    ("Telephony", "Infrastructure & Cloud", "phone", "Hardware", 2),
    ("Accounts & Passwords", "Service Desk", "account", "Access", 8),
]

CATEGORIES = {
    "Hardware": ["Laptop", "Desktop", "Monitor", "Peripheral", "Mobile phone", "Printer", "Phone"],
    "Software": ["Installation", "Licence", "Error or crash", "Update"],
    "Network": ["Connectivity", "Wi-Fi", "VPN", "Performance"],
    "Access": ["Password reset", "New account", "Permissions", "MFA"],
    "Email & Collaboration": ["Mailbox", "Calendar", "Teams", "SharePoint"],
    "Business application": ["Error", "Data correction", "Performance", "Report"],
    "Infrastructure": ["Server", "Storage", "Backup", "Database"],
    "Security": ["Phishing", "Malware", "Lost or stolen device", "Web filtering"],
}

# Which leaf category each family's tickets usually fall under (the first is the most common).
FAMILY_CATEGORIES = {
    "device": ["Laptop", "Desktop", "Monitor", "Peripheral"],
    "mobile": ["Mobile phone"],
    "print": ["Printer"],
    "office": ["Error or crash", "Licence", "Update"],
    "video": ["Teams"],
    "software": ["Installation", "Licence", "Update"],
    "av": ["Peripheral", "Monitor"],
    "lan": ["Connectivity", "Performance"],
    "wifi": ["Wi-Fi"],
    "vpn": ["VPN"],
    "internet": ["Connectivity", "Performance"],
    "firewall": ["Web filtering"],
    "mailsec": ["Phishing", "Malware"],
    "identity": ["MFA", "Permissions", "Password reset"],
    "erp": ["Error", "Data correction", "Performance", "Report"],
    "crm": ["Error", "Data correction", "Report"],
    "hr": ["Error", "Data correction"],
    "payroll": ["Error", "Data correction"],
    "expense": ["Error", "Data correction"],
    "intranet": ["Error", "Performance"],
    "docs": ["SharePoint"],
    "bi": ["Report", "Performance"],
    "email": ["Mailbox", "Calendar"],
    "files": ["Storage", "Permissions"],
    "backup": ["Backup"],
    "servers": ["Server"],
    "db": ["Database"],
    "cloud": ["Server", "Storage"],
    "phone": ["Phone"],
    "account": ["Password reset", "New account", "Permissions"],
}

# --- what breaks ------------------------------------------------------------------------------

SLOTS = {
    "site": ["Berlin", "Leeds", "Lyon", "Boston", "Madrid", "Warsaw", "Osaka", "Toronto"],
    "floor": ["2nd", "3rd", "4th", "5th", "ground"],
    "room": ["Everest", "Kilimanjaro", "Matterhorn", "Denali", "Fuji", "Etna", "Olympus"],
    "laptop": ["ThinkPad T14", "Latitude 7440", "EliteBook 840", "MacBook Pro 14", "Surface 5"],
    "app": ["Excel", "Outlook", "Word", "PowerPoint", "OneNote", "Teams"],
    "code": ["0x80070005", "ERR-4021", "E_ACCESSDENIED", "HTTP 500", "ORA-01555", "0xC004F074"],
    "host": ["app-prd-03", "sql-prd-01", "fs-ber-02", "web-prd-07", "k8s-node-12", "erp-db-02"],
    "share": [r"\\fs-ber-02\finance", r"\\fs-lee-01\projects", r"\\fs-ber-02\hr", r"\\fs01\it"],
    "desk": ["B-214", "C-031", "A-117", "D-402", "E-009", "B-330"],
    "ssid": ["CORP-WLAN", "CORP-GUEST", "CORP-IOT"],
    "report": ["monthly sales", "open orders", "stock ageing", "headcount", "pipeline"],
    "tx": ["VA01", "ME21N", "MIGO", "FB60", "MM03", "VL02N"],
    "website": ["a supplier portal", "the customs authority site", "a training platform"],
    "mailbox": ["invoices@", "support@", "sales-emea@", "hr-team@", "orders@"],
}

# Per family: titles and one detail sentence each (same index); slots are filled per ticket.
INCIDENTS: dict[str, list[tuple[str, str]]] = {
    "device": [
        ("Laptop will not power on", "My {laptop} shows no lights at all, even on the charger."),
        ("Screen flickers on my {laptop}", "The built-in screen flickers every few seconds."),
        ("Docking station does not detect monitors", "Both monitors stay black when docked."),
        ("Battery drains in under an hour", "The battery went from 100% to 10% in 50 minutes."),
        ("Laptop extremely slow after update", "Opening {app} takes several minutes now."),
        ("Keyboard keys not responding", "Several keys (E, R, T) do nothing when pressed."),
        ("Blue screen when waking from sleep", "It crashes with a blue screen when I open it."),
        ("Laptop fan constantly loud", "The fan runs at full speed even when idle."),
    ],
    "mobile": [
        ("Company phone not receiving email", "Mail on my phone stopped syncing yesterday."),
        ("Phone stuck on enrolment screen", "The new phone will not finish device enrolment."),
        ("Cracked screen on company phone", "The screen cracked; touch works only at the top."),
        ("Authenticator app lost after phone reset", "I reset the phone and lost the app."),
    ],
    "print": [
        ("Printer on {floor} floor shows paper jam", "It reports a jam but there is no paper."),
        ("Cannot print to the {site} office printer", "Jobs stay in the queue as 'error'."),
        ("Scanned documents not arriving by email", "Scan to email no longer sends."),
        ("Printer prints blank pages", "Every page comes out blank since the toner change."),
        ("Need the {floor} floor printer added", "The printer is missing from my list."),
    ],
    "office": [
        ("{app} crashes when opening files", "{app} closes without a message on any file."),
        ("{app} says the licence is not activated", "It shows 'unlicensed product' ({code})."),
        ("Add-in missing in {app}", "The finance add-in disappeared from the ribbon."),
        ("{app} freezes when saving to OneDrive", "Saving hangs at 'uploading' for minutes."),
    ],
    "video": [
        ("Teams calls drop after 30 seconds", "Every call disconnects after about 30 seconds."),
        ("No audio in Teams meetings", "Others cannot hear me; the headset works elsewhere."),
        ("Screen sharing shows a black window", "Participants see black when I share."),
        ("Camera not detected in Teams", "Teams says no camera is available."),
    ],
    "software": [
        ("Please install {app} add-in", "I need the add-in for the new budgeting process."),
        ("Software Center installation fails", "The install stops at 45% with {code}."),
        ("Licence needed for Visio", "I need Visio for process diagrams in my new role."),
        ("Application needs admin rights to update", "The update asks for an admin password."),
    ],
    "av": [
        ("Meeting room {room} screen has no signal", "The screen says 'no signal' via HDMI."),
        ("Room {room} speakerphone not working", "Remote participants cannot hear the room."),
        ("Booking panel outside {room} is blank", "The panel outside the room stays dark."),
    ],
    "lan": [
        ("No network at desk {desk}", "The network port at my desk gives no connection."),
        ("Network very slow in {site} office", "Everything on the network is slow today."),
        ("Cannot reach internal sites from {site}", "Internal pages time out since this morning."),
    ],
    "wifi": [
        ("{ssid} not visible in room {room}", "The network does not show up in that room."),
        ("Wi-Fi keeps disconnecting on {floor} floor", "The connection drops every few minutes."),
        ("Guest Wi-Fi voucher not accepted", "The visitor's voucher code is rejected."),
    ],
    "vpn": [
        ("VPN disconnects every few minutes", "The VPN drops and reconnects constantly."),
        ("Cannot connect to VPN from home", "The client says 'authentication failed'."),
        ("VPN connected but no internal sites load", "Connected, but nothing internal loads."),
        ("VPN client missing after update", "The VPN client disappeared after the update."),
    ],
    "internet": [
        ("Websites load very slowly", "External sites take 20 seconds or more to load."),
        ("Cannot reach {website}", "The connection to the site times out."),
    ],
    "firewall": [
        ("{website} blocked by the web filter", "I need it for work; the filter blocks it."),
        ("Partner needs access to our SFTP", "Our partner's connection is refused."),
    ],
    "mailsec": [
        ("Suspicious email asking for my password", "I received a login link that looks fake."),
        ("I clicked a link in a phishing email", "I entered my password before I noticed."),
        ("Legitimate supplier mail quarantined", "Invoices from a supplier go to quarantine."),
    ],
    "identity": [
        ("MFA prompts not arriving on new phone", "I get no push notifications on my new phone."),
        ("Single sign-on loops back to the login page", "After signing in I get sent back."),
        ("Need access to the {report} report", "My manager approved access for me."),
    ],
    "erp": [
        ("SAP transaction {tx} ends with a short dump", "Running {tx} ends in a dump."),
        ("Purchase order stuck in approval", "A purchase order has waited three days."),
        ("SAP very slow for the {site} plant", "Every transaction takes 30 seconds or more."),
        ("Wrong prices on sales orders", "Orders created today show last year's prices."),
    ],
    "crm": [
        ("Salesforce opportunities not syncing", "Changes do not reach the forecast."),
        ("Cannot log in to Salesforce", "It says my user is frozen."),
        ("Duplicate accounts created by the import", "The import created duplicate accounts."),
    ],
    "hr": [
        ("HR portal shows the wrong manager", "My profile lists my previous manager."),
        ("Leave request cannot be submitted", "Submitting leave gives an error ({code})."),
    ],
    "payroll": [
        ("Payslip not visible for this month", "This month's payslip is missing."),
        ("Overtime hours missing from payroll", "Approved overtime is not in the export."),
    ],
    "expense": [
        ("Expense report stuck in 'submitted'", "My report has not reached my manager."),
        ("Receipt upload fails", "Uploading a receipt photo gives {code}."),
    ],
    "intranet": [
        ("Intranet news page shows an error", "The news page shows {code}."),
        ("Intranet search returns nothing", "Search finds no results for any term."),
    ],
    "docs": [
        ("Cannot open files in the team site", "Documents open as read-only or not at all."),
        ("SharePoint library permissions wrong", "New team members cannot see the library."),
        ("Sync of the project library stopped", "OneDrive shows sync errors on the library."),
    ],
    "bi": [
        ("{report} dashboard not refreshed", "The dashboard still shows last week's data."),
        ("Power BI report shows wrong totals", "Totals differ from the ERP figures."),
    ],
    "email": [
        ("Emails to external addresses stuck in outbox", "External mail does not go out."),
        ("Shared mailbox {mailbox} missing in Outlook", "The shared mailbox disappeared."),
        ("Calendar invites arrive twice", "Everyone receives meeting invites twice."),
        ("Mailbox almost full", "Outlook warns that my mailbox is 98% full."),
        ("Out-of-office reply not sent", "Senders do not get my automatic reply."),
    ],
    "files": [
        ("Cannot reach {share}", "The share says 'network path not found'."),
        ("Access denied on {share}", "I get access denied on a folder I used yesterday."),
        ("Deleted folder needs restoring", "A project folder was deleted by mistake."),
    ],
    "backup": [
        ("Restore request for deleted files", "Please restore files deleted on Monday."),
        ("Backup job failed on {host}", "Last night's backup of {host} failed."),
    ],
    "servers": [
        ("Server {host} high CPU alerts", "Monitoring reports CPU above 95% on {host}."),
        ("Server {host} disk almost full", "The data disk on {host} is at 97%."),
        ("Application on {host} not responding", "The service on {host} stopped responding."),
    ],
    "db": [
        ("Database connection timeouts on {host}", "Applications time out connecting to {host}."),
        ("Nightly job on {host} runs too long", "The nightly job now overruns into the day."),
    ],
    "cloud": [
        ("Azure VM {host} unreachable", "The VM does not answer since the maintenance."),
        ("Cloud costs alert for the test subscription", "The budget alert fired at 120%."),
    ],
    "phone": [
        ("Desk phone shows 'no service'", "My desk phone has no dial tone."),
        ("Calls to the hotline drop", "Calls to the hotline drop after the greeting."),
        ("Voicemail PIN does not work", "The voicemail PIN is rejected."),
    ],
    "account": [
        ("Account locked out", "My account locked after I changed my password."),
        ("Password expired while travelling", "My password expired and I cannot change it."),
        ("New starter needs an account", "A new colleague starts on Monday in {site}."),
        ("Access to shared drive for new team member", "They need the same access as I have."),
        ("Cannot sign in after name change", "My new name is not accepted at sign-in."),
    ],
}

REQUESTS = [
    "New laptop for a new starter in {site}",
    "Please set up a second monitor at desk {desk}",
    "Access to {share} for my team",
    "Install {app} add-in for budgeting",
    "New mobile phone for field sales",
    "Distribution list for the {site} project team",
    "Guest Wi-Fi access for a workshop in room {room}",
    "Licence for Visio",
    "Shared mailbox {mailbox} for the new team",
    "Move desk phone to desk {desk}",
]
PROBLEMS = [
    "Recurring VPN disconnects for remote staff",
    "Repeated short dumps in SAP transaction {tx}",
    "Intermittent high CPU on {host}",
    "Printers in {site} jam after firmware update",
    "Teams call quality poor in the {site} office",
    "Nightly backups of {host} fail every few days",
]
CHANGES = [
    "Upgrade firewall firmware in {site}",
    "Patch {host} with this month's security updates",
    "Increase the data disk of {host}",
    "Roll out the new VPN client",
    "Migrate {share} to the new file server",
    "Replace Wi-Fi access points on the {floor} floor in {site}",
]
TASKS = [
    "Collect laptop from leaver in {site}",
    "Update the asset register for {site}",
    "Check the UPS batteries in the {site} server room",
    "Review firewall rules for {host}",
    "Prepare devices for new starters in {site}",
]

# --- what people say --------------------------------------------------------------------------

OPENERS = [
    "Hello,",
    "Hi team,",
    "Good morning,",
    "Hi,",
    "Dear service desk,",
    "",
]
IMPACTS = [
    "I cannot work on anything else until this is fixed.",
    "This blocks me from finishing the month-end close.",
    "Several colleagues in {site} have the same problem.",
    "It is annoying but I can work around it for now.",
    "A customer meeting starts in an hour, so this is urgent.",
    "Not urgent, but please look at it this week.",
]
TRIED = [
    "I have already restarted twice.",
    "Logging out and in again did not help.",
    "It worked fine until yesterday.",
    "I tried another cable and another port.",
    "A colleague has the same setup and it works for them.",
    "",
]
SIGNOFFS = ["Thanks", "Thank you!", "Best regards", "Cheers", "Many thanks"]

AGENT_REPLIES = [
    "Thanks for reporting this, {first}. I am looking into it now.",
    "Hi {first}, I have picked this up. Could you tell me since when this happens?",
    "Hi {first}, thanks. Can you send a screenshot of the error?",
    "Thanks {first}, we can reproduce it and are working on a fix.",
    "Hi {first}, I will call you in a few minutes to look at it together.",
    "Hello {first}, could you try again now and let me know if it still happens?",
]
REQUESTER_REPLIES = [
    "It happened again this morning.",
    "Here is the screenshot you asked for.",
    "Yes, I am available now.",
    "Thanks, that seems to have fixed it.",
    "Still the same, unfortunately.",
    "Any update on this? It is getting urgent.",
    "I tried what you suggested; no change.",
]
HOLD_QUESTIONS = {
    "awaiting_requester": "Hi {first}, could you confirm when you are at your desk so we can "
    "look at it together? I will put the ticket on hold until then.",
    "awaiting_vendor": "We have opened a case with the vendor and are waiting for their answer. "
    "We will update you as soon as we hear back.",
    "awaiting_change": "The fix needs a planned change, scheduled for the next maintenance "
    "window. We will update you once it is done.",
}
INTERNAL_NOTES = [
    "Checked the logs on {host}: nothing unusual at the reported time.",
    "Known issue with the last update; see the vendor advisory.",
    "Remote session done, reproduced the problem.",
    "User is VIP, keep them informed.",
    "Same symptoms as last month; possibly related to the problem record.",
    "Escalating: needs second-line access.",
    "Collected diagnostics and attached them to the vendor case.",
]
RESOLUTIONS = {
    "fixed": [
        "Replaced the faulty part and tested with the user.",
        "Corrected the configuration; the user confirmed it works.",
        "Reinstalled the application and restored the user's settings.",
        "Reset the account and re-enrolled MFA with the user.",
    ],
    "workaround": [
        "Provided a workaround until the vendor fix is released.",
        "User switched to the web version for now; problem record raised.",
    ],
    "no_fault_found": ["Could not reproduce; works as expected when tested together."],
    "duplicate": ["Duplicate of an incident already being worked on."],
    "user_education": ["Walked the user through the correct steps; no fault."],
    "resolved_by_change": ["Fixed by the change implemented in last night's window."],
}
RESOLUTION_WEIGHTS = {
    "fixed": 62,
    "workaround": 12,
    "no_fault_found": 8,
    "duplicate": 4,
    "user_education": 10,
    "resolved_by_change": 4,
}
RESOLVED_REPLIES = [
    "This should be fixed now. Please let us know if it comes back.",
    "Done. Please check and reply here if anything is still wrong.",
    "All sorted on our side. Thanks for your patience!",
]
CANCEL_REPLIES = [
    "Please cancel this, it started working again.",
    "No longer needed, thank you.",
    "Raised by mistake, sorry.",
]

CANCEL_REASONS = [
    "Logged twice: the same problem is followed on another ticket.",
    "The requester no longer needs it.",
    "Not a service desk matter: passed to facilities.",
]

MAJOR_INCIDENTS = [
    ("Email delivery delayed for all users", "email"),
    ("VPN unavailable for remote staff", "vpn"),
    ("SAP unavailable in all plants", "erp"),
    ("Wi-Fi outage in the {site} office", "wifi"),
    ("Single sign-on failing for cloud applications", "identity"),
    ("File shares unreachable in {site}", "files"),
    ("Teams calls failing company-wide", "video"),
    ("Printing down in {site}", "print"),
]
