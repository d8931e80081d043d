<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
  <context>
    <name>OSDownloads</name>
    <message>
      <location filename="../plugin.py" line="38" />
      <source>&amp;OS Downloads</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/progress_panel.py" line="66" />
      <source>(+{count} more in the task manager)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="133" />
      <source>A key is stored in the QGIS Authentication Manager (entry {id}). Type a new one to replace it.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="102" />
      <source>API URL</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="92" />
      <source>API key:</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="98" />
      <source>Add item</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="72" />
      <source>Add the layers to the project</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="148" />
      <source>Add the layers to the project (QGIS desktop)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="250" />
      <source>Add the numbers of the TRUD items your account is subscribed to.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/client_factory.py" line="47" />
      <source>Add your key in the OS Downloads settings.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="82" />
      <source>After downloading</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="140" />
      <location filename="../processing_provider/download_product.py" line="56" />
      <source>Area</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="401" />
      <source>Areas</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/progress_panel.py" line="25" />
      <source>Cancel</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/common.py" line="195" />
      <source>Cancelled.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/progress_panel.py" line="58" />
      <source>Cancelling…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="399" />
      <location filename="../ui/opendata_tab.py" line="92" />
      <source>Category</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="36" />
      <source>Change-only (COU)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="61" />
      <source>Check Settings &gt; Options &gt; Authentication in QGIS.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="63" />
      <source>Check for updates</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="121" />
      <source>Check the release's PGP signature (uses GnuPG)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/task.py" line="50" />
      <source>Checking files already downloaded ({files})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/common.py" line="180" />
      <source>Checking files already there</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_product.py" line="84" />
      <source>Choose a product and a format.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="56" />
      <source>Choose its authentication configuration (AUTHCFG), add it in the OS Downloads settings, or set OS_API_KEY in the environment.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="48" />
      <source>Choose the entry with your OS Data Hub key (username = key).</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="142" />
      <source>Choose the folder of earlier downloads, or manifest files.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="88" />
      <source>Command-line exit code</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="105" />
      <location filename="../ui/packages_tab.py" line="107" />
      <source>Created</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="153" />
      <source>Data files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="105" />
      <source>Data package</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="95" />
      <source>Data package id</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="125" />
      <source>Data packages</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/client_factory.py" line="46" />
      <location filename="../processing_provider/download_package.py" line="55" />
      <source>Data packages need an OS Data Hub API key.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="104" />
      <source>Date</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/notice.py" line="36" />
      <source>Dismiss</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_product.py" line="33" />
      <source>Download OS OpenData product</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="142" />
      <source>Download and load</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="334" />
      <source>Download and load the newest release of item {n}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="122" />
      <source>Download and load the selected release</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="113" />
      <source>Download and load this version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="331" />
      <source>Download and load {name}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="81" />
      <source>Download data package version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="187" />
      <source>Download failed</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="76" />
      <location filename="../processing_provider/outputs.py" line="142" />
      <source>Download folder</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="178" />
      <source>Downloaded to {folder}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="175" />
      <source>Downloaded, but no layers were found to load. Files: {folder}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/common.py" line="181" />
      <source>Downloading</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="131" />
      <source>Downloading data package {package}, version {version}, into {dest}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="347" />
      <source>Downloading item {n}…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_product.py" line="85" />
      <source>Downloading {product} ({fmt}, {area}) into {dest}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/task.py" line="58" />
      <source>Downloading: {amount} ({files} files{speed})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="74" />
      <location filename="../processing_provider/common.py" line="221" />
      <source>Downloads</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_product.py" line="36" />
      <source>Downloads an Ordnance Survey OpenData product (no key needed) in one format and area, checks every file's MD5 and unzips it into its own folder under the destination (product/version/format/area). Files already there with the right MD5 are not fetched again.

PRODUCT, FORMAT, SUBFORMAT and AREA take the API's exact strings, e.g. OpenRoads, GeoPackage, GB; or Terrain50, Vector Tiles, (MBTiles). They are lists when the product list has been fetched, plain text otherwise.

Outputs: FOLDER, MANIFEST (os_downloads_manifest.json), FILES (the data files found: GeoPackages, Shapefiles, GML, CSV, grids...) and VERSION. LOAD adds the layers to the project when run in QGIS (not in qgis_process).</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="84" />
      <source>Downloads one version of an OS Data Hub data package (premium or PSGA data you ordered), checks every file's MD5 and unzips it into its own folder (packages/package/version) under the destination.

VERSION is a version id or 'latest'. The key comes from the authentication configuration chosen in AUTHCFG (username = API key, password = secret or empty), else the one in the OS Downloads settings, else the OS_API_KEY (and OS_API_SECRET) environment variables, which suits scheduled qgis_process runs.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="77" />
      <source>Dry run (download nothing)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="79" />
      <source>Each product and version gets its own sub-folder. Empty: the default.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="67" />
      <source>Enter the QGIS master password to store or read your {label}.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_service.py" line="67" />
      <source>Enter the key from your TRUD account page in the NHS TRUD tab.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="93" />
      <source>Entries already current</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="94" />
      <source>Entries failed</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="92" />
      <source>Entries updated</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="46" />
      <source>Expansion</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/task.py" line="52" />
      <source>Extracting {files} files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="86" />
      <source>Fetch the product list again</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="109" />
      <source>File</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/common.py" line="203" />
      <source>File error: {err}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="141" />
      <source>Files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="72" />
      <source>Files are in {folder}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="127" />
      <source>Files of the chosen version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="83" />
      <source>Filter by name, id or category</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/task.py" line="54" />
      <source>Finding layers</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="77" />
      <source>Folder of earlier downloads</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_product.py" line="57" />
      <source>Folder with the product's files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="106" />
      <source>Folder with the version's files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="139" />
      <location filename="../ui/packages_tab.py" line="107" />
      <location filename="../processing_provider/download_product.py" line="52" />
      <source>Format</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="400" />
      <source>Formats</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="38" />
      <source>Full</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="130" />
      <source>Give the data package id.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="92" />
      <source>HTML files (*.html);;JSON files (*.json)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="210" />
      <source>Held</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="398" />
      <source>Id</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="44" />
      <source>Initial supply</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="208" />
      <source>Item</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="104" />
      <source>Item / release</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="97" />
      <source>Item number, or the item's TRUD releases address</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="243" />
      <source>Item {n}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="95" />
      <source>Items checked</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="97" />
      <source>Items that could not be checked</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="96" />
      <location filename="../processing_provider/check_updates.py" line="98" />
      <source>Items with a newer version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="176" />
      <source>Key stored in the QGIS Authentication Manager.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="211" />
      <source>Latest</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="106" />
      <source>Leave empty for the OS Downloads API (or the {env} variable).</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="163" />
      <location filename="../ui/packages_tab.py" line="169" />
      <source>Listing data packages</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="283" />
      <location filename="../ui/opendata_tab.py" line="243" />
      <location filename="../ui/packages_tab.py" line="256" />
      <location filename="../ui/packages_tab.py" line="262" />
      <source>Listing files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="284" />
      <source>Listing files failed.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="238" />
      <source>Listing files…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="189" />
      <source>Listing products</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="191" />
      <source>Listing products failed. Check the message above, then Reload.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="214" />
      <location filename="../ui/packages_tab.py" line="220" />
      <source>Listing versions</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="166" />
      <source>Loaded {count} layer(s) into "{group}". Files: {folder}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="161" />
      <source>Loading data packages…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="109" />
      <location filename="../ui/opendata_tab.py" line="174" />
      <source>Loading products…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="213" />
      <source>Loading versions…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/common.py" line="183" />
      <source>Looking for data in</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="152" />
      <source>Manifest</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="80" />
      <source>Manifest files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="213" />
      <source>Message</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="89" />
      <source>My data packages</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="91" />
      <location filename="../ui/trud_tab.py" line="424" />
      <source>NHS TRUD</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_service.py" line="123" />
      <source>NHS TRUD item {item}, {release}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="80" />
      <source>NHS TRUD {item}: {release}{when}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_service.py" line="205" />
      <source>NHS TRUD: placing {table} by postcode</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="212" />
      <source>Newer versions</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_service.py" line="66" />
      <source>No NHS TRUD API key is stored.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="200" />
      <source>No data packages: order one in the OS Data Hub, then reload.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="141" />
      <source>No key stored. OpenData products need none; data packages do.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="180" />
      <source>No key yet: copy it from your TRUD account page.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="141" />
      <source>No os_downloads_manifest.json found.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="118" />
      <source>Not loaded: {name} ({why})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="114" />
      <source>Nothing to load: no data files were found.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="148" />
      <location filename="../integration/auth.py" line="154" />
      <source>OS API key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="103" />
      <source>OS API key (authentication configuration)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="85" />
      <source>OS API key for data packages</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="83" />
      <source>OS API key for data packages (default: OS_API_KEY in the environment)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="96" />
      <source>OS Data Hub (premium data packages)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../plugin.py" line="45" />
      <location filename="../ui/dock.py" line="52" />
      <location filename="../ui/dock.py" line="185" />
      <location filename="../ui/dock.py" line="189" />
      <location filename="../processing_provider/provider.py" line="46" />
      <source>OS Downloads</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="67" />
      <location filename="../ui/settings_page.py" line="192" />
      <source>OS Downloads settings</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/provider.py" line="49" />
      <source>OS Downloads: Ordnance Survey OpenData and data packages</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/downloads.py" line="135" />
      <source>OS Downloads: data package {title}, version {version}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="216" />
      <source>OS Downloads: updates</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/downloads.py" line="107" />
      <source>OS Downloads: {title} ({format}, {area})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="88" />
      <source>OS OpenData</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="48" />
      <source>Online order</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="202" />
      <source>Open folder</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="97" />
      <source>Open settings…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="89" />
      <source>Optional: only for OAuth2</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="87" />
      <source>Outcome</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="81" />
      <source>Parallel downloads</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="131" />
      <source>Place a table on the map by postcode</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="129" />
      <source>Place on map</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="411" />
      <source>Placing the table on the map</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="413" />
      <source>Placing {name} by postcode…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="134" />
      <source>Postcode points:</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/context.py" line="53" />
      <source>Premium data packages need the API key of an OS Data Hub project that includes the OS Downloads API. The key is kept in the QGIS Authentication Manager.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="92" />
      <location filename="../ui/packages_tab.py" line="105" />
      <location filename="../processing_provider/download_product.py" line="51" />
      <source>Product</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="416" />
      <source>Product documentation</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="107" />
      <location filename="../processing_provider/download_product.py" line="57" />
      <source>Product version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="98" />
      <source>Project API key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="99" />
      <source>Project API secret</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="402" />
      <source>Provider</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/layers.py" line="102" />
      <source>QGIS could not open it</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="384" />
      <source>QGIS could not open {path}.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="138" />
      <source>QGIS could not read the table {name}.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="55" />
      <source>Reads a sync config (TOML or JSON) listing OpenData products (id, format, area) and data packages (id) to keep current, and downloads only what is new since the last run: a changed product version, or new package versions (full supply first, then change-only updates in order, each in its own folder). Writes a report (os_downloads_sync_report.json and .txt) in the config's dest_root. Two runs never overlap. DRY_RUN only says what would be fetched.

OUTCOME is 'updated', 'nothing new', 'would update' or 'failed'. See the README section Automation and scheduling for the config format.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="85" />
      <location filename="../ui/packages_tab.py" line="112" />
      <location filename="../ui/trud_tab.py" line="115" />
      <source>Reload</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="114" />
      <source>Remove item</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="92" />
      <source>Remove the stored key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="91" />
      <source>Report</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="89" />
      <source>Report (JSON)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="90" />
      <source>Report (text)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="66" />
      <source>Reports which products and data packages downloaded earlier have a newer version, without downloading anything. It reads the os_downloads_manifest.json files under FOLDER (default: the plugin's download folder) and/or the manifest files listed in MANIFESTS. A product is out of date when its version changed; a data package when versions newer than the newest one held exist.

OUTPUT is an HTML table, or JSON when its name ends in .json. Data packages need the OS API key (AUTHCFG, the plugin's settings, or OS_API_KEY).</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="47" />
      <source>Resupply</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="88" />
      <source>Save key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="191" />
      <source>Saving the TRUD key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="98" />
      <source>See the log panel (Authentication tab) for the reason.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="124" />
      <source>Select a product to see what it contains.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="66" />
      <source>Settings</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../plugin.py" line="50" />
      <source>Settings…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../plugin.py" line="47" />
      <source>Show or hide the OS Downloads panel</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="199" />
      <source>Show the loaded layers on the map</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="109" />
      <location filename="../ui/trud_tab.py" line="104" />
      <source>Size</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/task.py" line="95" />
      <source>Starting</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="345" />
      <source>Starting the TRUD download</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="385" />
      <location filename="../ui/packages_tab.py" line="298" />
      <source>Starting the download</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="209" />
      <source>Status</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="138" />
      <source>Stored - type to replace</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_product.py" line="54" />
      <source>Subformat</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="107" />
      <source>Supply</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="72" />
      <source>Sync config (*.toml *.json)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="70" />
      <source>Sync config file</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="52" />
      <source>Sync: fetch what is new</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_auth.py" line="79" />
      <location filename="../integration/trud_auth.py" line="85" />
      <source>TRUD API key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="133" />
      <source>Table:</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="141" />
      <source>The API key is empty.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="66" />
      <source>The QGIS Authentication Manager is locked.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="60" />
      <source>The QGIS Authentication Manager is not available.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_auth.py" line="76" />
      <source>The TRUD API key is empty.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="47" />
      <location filename="../processing_provider/sync_algorithm.py" line="182" />
      <source>The authentication configuration {id} holds no OS API key.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="136" />
      <source>The folder {folder} does not exist.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="238" />
      <source>The layer {name} has no postcode field.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="355" />
      <source>The placed layer could not be written to {path}: {message}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="241" />
      <source>The table has no field {name}.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="245" />
      <source>The table {name} is not a file; choose where to write the point layer.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/auth.py" line="95" />
      <source>The {label} could not be saved in the QGIS Authentication Manager.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="308" />
      <source>This product has no files to download.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="70" />
      <source>Unzip the downloaded files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="144" />
      <source>Unzip the files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/common.py" line="182" />
      <source>Unzipping</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="45" />
      <source>Update</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="178" />
      <source>Using the key from the TRUD_API_KEY environment variable.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="397" />
      <source>Version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="106" />
      <source>Version id</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/download_package.py" line="98" />
      <source>Version id (or latest)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="235" />
      <source>Version {id}: {reason}, {supply}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="126" />
      <source>Versions (latest first)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/task.py" line="84" />
      <source>Waiting to start</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/settings_page.py" line="143" />
      <source>Your OS Data Hub project API key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="87" />
      <source>Your TRUD API key (from your TRUD account page)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="198" />
      <source>Zoom to</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/layers.py" line="127" />
      <source>change-only</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="274" />
      <source>change-only update</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="274" />
      <source>full supply</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="230" />
      <source>latest</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="266" />
      <source>listing…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="304" />
      <source>not listed</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/context.py" line="39" />
      <source>the OS Downloads settings (gear button in the dock)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="158" />
      <source>the log above</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="271" />
      <source>unknown</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="170" />
      <source>{count} could not be opened (see the log).</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="197" />
      <source>{count} data packages</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="276" />
      <source>{count} files, {size}; {kind}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="207" />
      <source>{count} products</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="288" />
      <source>{count} releases</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/trud_tab.py" line="369" />
      <source>{count} table(s) loaded; {postcodes} with postcodes.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/opendata_tab.py" line="426" />
      <source>{count} tiles</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="241" />
      <source>{count} versions</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/packages_tab.py" line="183" />
      <source>{doing} failed.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="68" />
      <source>{downloaded} file(s) downloaded, {skipped} already there and verified</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="170" />
      <source>{label}: newer version(s) {newer} (have {have})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="176" />
      <source>{label}: up to date ({have})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="216" />
      <source>{matched} of {total} rows placed by postcode; {unmatched} without a match.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="74" />
      <source>{n} data file(s) found: {names}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/sync_algorithm.py" line="157" />
      <source>{n} entr(ies) failed; see {report}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/outputs.py" line="120" />
      <source>{n} layer(s) added to the group {group}.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../processing_provider/check_updates.py" line="146" />
      <source>{n} manifest(s), {m} item(s) to check</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../integration/trud_layers.py" line="259" />
      <source>{table} (by postcode)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dock.py" line="160" />
      <source>{title}: cancelled; nothing was loaded.</source>
      <translation type="unfinished" />
    </message>
  </context>
</TS>
